// The live heap rebuilt event by event: address -> (size, stack) for the blocks live now, and per
// stack its live bytes and blocks, allocations and temporary allocations, kept up to date on each
// event so a Snapshot costs the number of distinct stacks, never the number of events or blocks.
// Sampled traces weigh each block by its inverse sampling probability (an estimate); lossy ones
// carry the counts of dropped events. The tracer's internal stack (kInternalStack: the program's
// own bookkeeping, tracer_live.h) is left out of every byte and block figure and of per-stack
// results; its blocks are still tracked so their frees replay consistently (allocs and frees
// count every event). Not thread-safe; one HeapReplay per read of a trace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/replay/addr_map.hpp"
#include "analyzer/record_decoder.hpp"
#include "analyzer/symbols/module_map.hpp"

namespace heapwise::analyzer {

// What one stack holds at a point, and what it did up to that point. Sampled traces: estimates.
struct StackUsage {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t allocs = 0;           // allocations made so far (a realloc's new block included)
    std::uint64_t bytes_allocated = 0;
    std::uint64_t temporary = 0;        // allocations freed by their thread's very next heap event
};

struct Snapshot {
    std::string point;            // the point's text ("peak", "snap-3", "90s", ...)
    std::uint64_t time_ns = 0;    // time of the last record replayed before the capture
    std::uint64_t position = 0;   // records replayed before the capture
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    bool estimated = false;       // sampled trace: values are scaled estimates
    std::unordered_map<StackId, StackUsage> stacks;  // every stack that allocated so far
    std::vector<StackId> internal_stacks;  // left out of `stacks` and of the totals
};

struct RssSample {
    std::uint64_t time_ns = 0;
    std::uint64_t rss_bytes = 0;
    std::uint64_t heap_bytes = 0;  // the replayed live heap at that moment
};

struct MarkerAt {
    std::uint64_t time_ns = 0;
    std::uint64_t position = 0;  // records before it
    std::string label;
};

// Whole-run facts for reports. Byte and count figures are estimates when sampled is true.
struct ReplayFacts {
    std::optional<ProcessInfo> process;
    bool sampled = false;
    std::uint64_t sample_interval = 0;
    std::uint64_t duration_ns = 0;
    std::uint64_t records = 0;
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::uint64_t bytes_allocated = 0;
    std::uint64_t temporary = 0;
    std::uint64_t peak_bytes = 0;
    std::uint64_t peak_count = 0;
    std::uint64_t peak_time_ns = 0;
    std::uint64_t peak_position = 0;  // records replayed when the peak was first reached
    std::uint64_t end_bytes = 0;
    std::uint64_t end_count = 0;
    std::uint64_t max_rss_bytes = 0;
    std::vector<RssSample> rss;        // one per kRss record
    std::vector<MarkerAt> markers;
    std::uint64_t lost_allocs = 0;     // dropped by a lossy tracer (kLost)
    std::uint64_t lost_frees = 0;
    std::uint64_t lost_bytes = 0;
    std::uint64_t damaged = 0;         // pieces of damage the reader skipped
    std::uint64_t free_of_unknown = 0; // inconsistencies: 0 on an undamaged lossless trace
    std::uint64_t alloc_of_live = 0;
};

class HeapReplay final : public EventVisitor {
public:
    // Called before the record at `position` (records replayed so far) is applied; a capture
    // there sees the state after `position` records.
    using BeforeRecord = std::function<void(const HeapReplay&, std::uint64_t time_ns)>;
    void set_before_record(BeforeRecord hook) { before_ = std::move(hook); }

    void on_process_info(const ProcessInfo& e) override;
    void on_module_load(const ModuleLoad& e) override;
    void on_module_unload(const ModuleUnload& e) override;
    void on_thread_start(const ThreadStart& e) override { record(e.time_ns); }
    void on_thread_exit(const ThreadExit& e) override { record(e.time_ns); }
    void on_thread_name(const ThreadName& e) override { record(e.time_ns); }
    void on_stack(const StackDef& e) override;
    void on_internal_stack(const InternalStack& e) override;
    void on_alloc(const Alloc& e) override;
    void on_free(const Free& e) override;
    void on_realloc_failed(const ReallocFailed& e) override;
    void on_marker(const Marker& e) override;
    void on_rss(const Rss& e) override;
    void on_lost(const Lost& e) override;
    void on_end(const End& e) override { record(e.time_ns); }
    void on_damage(const TraceError&) override { ++facts_.damaged; }

    Snapshot snapshot(std::string point) const;
    std::uint64_t position() const noexcept { return position_; }
    const ReplayFacts& facts() const noexcept { return facts_; }
    const ModuleMap& modules() const noexcept { return modules_; }
    ModuleMap& modules() noexcept { return modules_; }
    // The module map generation in force when each stack was defined: its frames resolve there.
    const std::unordered_map<StackId, MapGeneration>& stack_generations() const noexcept {
        return stack_gen_;
    }

private:
    struct Block {
        std::uint64_t size = 0;
        StackId stack{};
    };
    struct Weight {
        std::uint64_t bytes = 0;
        std::uint64_t count = 0;
    };
    struct Pending {  // a thread's last realloc free, restored if the realloc fails
        std::uint64_t addr = 0;
        Block block;
        bool known = false;
    };
    struct ThreadState {
        Pending pending;
        std::uint64_t last_alloc = 0;  // the thread's last alloc, if its last heap event was one
        bool has_pending = false;
        bool has_last_alloc = false;
    };
    struct StackSlot {
        StackUsage usage;
        bool present = false;  // the stack allocated (a Snapshot lists only those)
    };
    StackUsage& usage(StackId stack) {
        StackSlot& s = by_stack_.get(stack);
        s.present = true;
        return s.usage;
    }
    void record(std::uint64_t time_ns);
    bool internal(StackId stack) const noexcept {
        return !internal_.empty() && std::find(internal_.begin(), internal_.end(), stack) != internal_.end();
    }
    Weight weight(std::uint64_t size) const noexcept;
    void add_live(const Block& b);
    void remove_live(const Block& b);

    BeforeRecord before_;
    std::uint64_t position_ = 0;
    std::uint64_t last_time_ns_ = 0;
    ReplayFacts facts_;
    AddrMap<Block> live_;
    DenseTable<StackId, StackSlot> by_stack_;     // stack ids are dense from 1
    DenseTable<ThreadId, ThreadState> threads_;  // thread indexes are dense from 0
    ModuleMap modules_;
    std::unordered_map<StackId, MapGeneration> stack_gen_;
    std::vector<StackId> internal_;  // one per tracing session; rarely more than one
};

}  // namespace heapwise::analyzer
