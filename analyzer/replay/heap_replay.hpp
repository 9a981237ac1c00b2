// The report's replay: the live heap (LiveHeap: address -> (size, stack), per-stack live bytes and
// blocks, allocations and temporaries, kept up to date on each event so a Snapshot costs the number
// of distinct stacks, never the number of events or blocks), plus what reports need around it:
// record positions, markers, RSS samples, the module map over time and each stack's map
// generation. Sampled traces weigh each block by its inverse sampling probability (an estimate);
// lossy ones carry the counts of dropped events. The tracer's internal stack (kInternalStack) is
// left out of every byte and block figure and of per-stack results (live_heap.hpp). Not
// thread-safe; one HeapReplay per read of a trace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/replay/live_heap.hpp"
#include "analyzer/record_decoder.hpp"
#include "analyzer/symbols/module_map.hpp"

namespace heapwise::analyzer {

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
    std::uint64_t realloc_failed_unknown = 0;
};

class HeapReplay final : public EventVisitor {
public:
    enum class Detail {
        kStacks,         // per-stack usage, modules and stack generations: what snapshots need
        kStacksAndPeak,  // the same, and the per-stack usage at the peak (peak_snapshot)
        kTotals,         // totals, peak, markers and RSS only: no per-stack work at all
    };
    explicit HeapReplay(Detail detail = Detail::kStacks)
        : heap_(detail != Detail::kTotals), detail_(detail) {
        if (detail == Detail::kStacksAndPeak) heap_.keep_peak();
    }

    // Where to be called next: before the record at position at_position (records replayed so
    // far), or before the first record later than after_time_ns, whichever comes first. A capture
    // there sees the state after `position()` records. kNever: not on this account.
    static constexpr std::uint64_t kNever = ~std::uint64_t{0};
    struct Stop {
        std::uint64_t at_position = kNever;
        std::uint64_t after_time_ns = kNever;
    };
    // The hook returns the next stop. Checked per record as two compares; called only at stops.
    using StopHook = std::function<Stop(const HeapReplay&, std::uint64_t time_ns)>;
    void set_stop_hook(StopHook hook, Stop first) {
        hook_ = std::move(hook);
        stop_ = hook_ ? first : Stop{};
    }
    // Called for every marker record before it is applied (as a stop at its position would be).
    using MarkerHook = std::function<void(const HeapReplay&, const Marker&)>;
    void set_marker_hook(MarkerHook hook) { marker_hook_ = std::move(hook); }

    void on_process_info(const ProcessInfo& e) override;
    void on_module_load(const ModuleLoad& e) override;
    void on_module_unload(const ModuleUnload& e) override;
    void on_thread_start(const ThreadStart& e) override { record(e.time_ns); }
    void on_thread_exit(const ThreadExit& e) override { record(e.time_ns); }
    void on_thread_name(const ThreadName& e) override { record(e.time_ns); }
    void on_stack(const StackDef& e) override;
    void on_internal_stack(const InternalStack& e) override;
    void on_alloc(const Alloc& e) override {
        record(e.time_ns);
        if (heap_.alloc(e)) {
            peak_position_ = position_;
            peak_last_time_ns_ = last_time_ns_;
            peak_internal_ = heap_.internal_stacks().size();
        }
    }
    void on_free(const Free& e) override {
        record(e.time_ns);
        heap_.free(e);
    }
    // The decoder's runs of allocs and frees (HeapBatchVisitor): the same as on_alloc and on_free
    // one by one, with the address table's slots prefetched ahead (LiveHeap::apply). A run is cut
    // where a stop falls: the hook must see the state before that event, which then goes alone.
    void on_heap_events(std::span<const HeapEvent> events) {
        while (!events.empty()) {
            // The events before the next stop: those record() would let pass.
            std::size_t n = events.size();
            const std::uint64_t room = stop_.at_position > position_ ? stop_.at_position - position_ : 0;
            if (room < n) n = static_cast<std::size_t>(room);
            if (stop_.after_time_ns != kNever) {
                const auto late = std::find_if(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n),
                                               [this](const HeapEvent& e) { return e.time_ns > stop_.after_time_ns; });
                n = static_cast<std::size_t>(late - events.begin());
            }
            if (n == 0) {
                const HeapEvent& e = events.front();
                if (e.is_alloc) {
                    HeapReplay::on_alloc(e.as_alloc());
                } else {
                    HeapReplay::on_free(e.as_free());
                }
                n = 1;
            } else {
                apply_run(events.first(n));
            }
            events = events.subspan(n);
        }
    }
    void on_realloc_failed(const ReallocFailed& e) override {
        record(e.time_ns);
        heap_.realloc_failed(e);
    }
    void on_marker(const Marker& e) override;
    void on_rss(const Rss& e) override;
    void on_lost(const Lost& e) override;
    void on_end(const End& e) override { record(e.time_ns); }
    void on_damage(const TraceError&) override { ++damaged_; }

    // Per-stack figures only with Detail::kStacks or kStacksAndPeak.
    Snapshot snapshot(std::string point) const;
    // The state right after the allocation that first reached the peak (kStacksAndPeak; with the
    // other details, the totals only), as snapshot() would have captured it there.
    Snapshot peak_snapshot(std::string point) const;
    std::uint64_t position() const noexcept { return position_; }
    ReplayFacts facts() const;
    const LiveTotals& totals() const noexcept { return heap_.totals(); }
    const ModuleMap& modules() const noexcept { return modules_; }
    ModuleMap& modules() noexcept { return modules_; }
    // The module map generation in force when each stack was defined: its frames resolve there.
    const std::unordered_map<StackId, MapGeneration>& stack_generations() const noexcept {
        return stack_gen_;
    }

private:
    void record(std::uint64_t time_ns) {
        if (position_ >= stop_.at_position || time_ns > stop_.after_time_ns) [[unlikely]] stopped(time_ns);
        ++position_;
        if (time_ns > last_time_ns_) last_time_ns_ = time_ns;
    }
    [[gnu::noinline]] void stopped(std::uint64_t time_ns);
    // Events no stop falls on: record() and the peak bookkeeping of on_alloc for each, after it
    // (only an allocation raises the live bytes past the peak so far).
    void apply_run(std::span<const HeapEvent> run) {
        std::uint64_t peak = heap_.totals().peak_bytes;
        std::uint64_t last = last_time_ns_;
        const std::uint64_t start = position_;
        heap_.apply(run, [&](const HeapEvent& e, std::uint64_t live_bytes) {
            if (e.time_ns > last) last = e.time_ns;
            if (live_bytes > peak) [[unlikely]] {
                peak = live_bytes;
                peak_position_ = start + static_cast<std::uint64_t>(&e - run.data()) + 1;
                peak_last_time_ns_ = last;
                peak_internal_ = heap_.internal_stacks().size();
            }
        });
        position_ = start + run.size();
        last_time_ns_ = last;
    }

    LiveHeap heap_;
    Detail detail_;
    StopHook hook_;
    Stop stop_;
    MarkerHook marker_hook_;
    std::uint64_t position_ = 0;
    std::uint64_t last_time_ns_ = 0;
    std::uint64_t peak_position_ = 0;
    std::uint64_t peak_last_time_ns_ = 0;
    std::size_t peak_internal_ = 0;  // internal stacks known at the peak (a prefix of the list)
    std::uint64_t damaged_ = 0;
    std::uint64_t max_rss_bytes_ = 0;
    std::uint64_t lost_allocs_ = 0;
    std::uint64_t lost_frees_ = 0;
    std::uint64_t lost_bytes_ = 0;
    std::optional<ProcessInfo> process_;
    std::vector<RssSample> rss_;
    std::vector<MarkerAt> markers_;
    ModuleMap modules_;
    std::unordered_map<StackId, MapGeneration> stack_gen_;
};

}  // namespace heapwise::analyzer
