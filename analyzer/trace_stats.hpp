// Whole-trace statistics by replay: counts per record kind and per allocation function, bytes,
// the live heap rebuilt event by event by the replay's own core (LiveHeap, so memory follows the
// live blocks and the rules are the report's) for the peak and what is live at the end, and the
// replay's inconsistencies, which a lossless trace must not have. Bytes are as recorded (never
// scaled by sampling). `heapwise stats` prints this; tests assert on it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/record_decoder.hpp"
#include "analyzer/replay/live_heap.hpp"

namespace heapwise::analyzer {

struct TraceStats {
    std::optional<ProcessInfo> process;
    std::optional<End> end;

    std::uint64_t records = 0;      // every record but padding
    std::uint64_t events = 0;       // heap events: allocs + frees + failed reallocs
    std::uint64_t allocs = 0;
    std::array<std::uint64_t, format::kAllocFnCount> allocs_by_fn{};
    std::uint64_t frees = 0;        // frees of a non-null address
    std::array<std::uint64_t, format::kFreeFnCount> frees_by_fn{};
    std::uint64_t frees_null = 0;   // free(NULL) and the like, if the tracer records them
    std::uint64_t reallocs = 0;     // realloc/reallocarray calls: new blocks plus failures
    std::uint64_t realloc_failed = 0;
    // Bytes and live figures leave out the tracer's internal stack (kInternalStack), as reports do.
    std::uint64_t bytes_allocated = 0;

    std::uint64_t peak_live_bytes = 0;
    std::uint64_t peak_live_blocks = 0;  // blocks live at the moment of the byte peak
    std::uint64_t peak_time_ns = 0;
    std::uint64_t live_bytes = 0;   // at the end of the trace
    std::uint64_t live_blocks = 0;

    std::uint64_t threads = 0;      // kThreadStart records
    std::uint64_t stacks = 0;
    std::uint64_t modules = 0;
    std::uint64_t module_unloads = 0;
    std::uint64_t markers = 0;
    std::vector<std::string> marker_labels;  // the first kMaxLabels, in order
    std::uint64_t rss_samples = 0;
    std::uint64_t max_rss_bytes = 0;
    std::uint64_t lost_allocs = 0;
    std::uint64_t lost_frees = 0;
    std::uint64_t lost_bytes = 0;
    std::uint64_t duration_ns = 0;  // time of the last timed record

    // Replay inconsistencies: 0 on an undamaged lossless trace.
    std::uint64_t free_of_unknown = 0;         // free of an address that is not live
    std::uint64_t alloc_of_live = 0;           // allocation returning an address already live
    std::uint64_t realloc_failed_unknown = 0;  // a failure not right after its realloc free

    static constexpr std::size_t kMaxLabels = 1000;
};

// The visitor that fills TraceStats; pass it to TraceReader::read (or read_with, which hands it
// runs of heap events). The heap events are inline so a reader that calls a final visitor
// directly pays no call per event.
class StatsBuilder final : public EventVisitor {
public:
    void on_process_info(const ProcessInfo& e) override;
    void on_module_load(const ModuleLoad& e) override;
    void on_module_unload(const ModuleUnload& e) override;
    void on_thread_start(const ThreadStart& e) override;
    void on_thread_exit(const ThreadExit& e) override { timed(e.time_ns); }
    void on_thread_name(const ThreadName& e) override { timed(e.time_ns); }
    void on_stack(const StackDef& e) override;
    void on_internal_stack(const InternalStack& e) override;
    void on_alloc(const Alloc& e) override {
        timed(e.time_ns);
        ++by_fn_[fn_slot(true, static_cast<std::size_t>(e.fn), e.addr)];
        heap_.alloc(e);
    }
    void on_free(const Free& e) override {
        timed(e.time_ns);
        ++by_fn_[fn_slot(false, static_cast<std::size_t>(e.fn), e.addr)];
        heap_.free(e);
    }
    // The decoder's runs of allocs and frees (HeapBatchVisitor): the same figures as on_alloc
    // and on_free one by one, with the address table's slots prefetched ahead. The counts by
    // function are taken in a second pass over the run, without a branch on each event's kind
    // (the heap's loop has enough to do).
    void on_heap_events(std::span<const HeapEvent> events) {
        heap_.apply(events, [](const HeapEvent&, std::uint64_t) {});
        records_ += events.size();
        std::uint64_t last = duration_ns_;
        for (const HeapEvent& e : events) {
            last = std::max(last, e.time_ns);
            ++by_fn_[fn_slot(e.is_alloc, e.fn, e.addr)];
        }
        duration_ns_ = last;
    }
    void on_realloc_failed(const ReallocFailed& e) override {
        timed(e.time_ns);
        ++realloc_failed_;
        heap_.realloc_failed(e);
    }
    void on_marker(const Marker& e) override;
    void on_rss(const Rss& e) override;
    void on_lost(const Lost& e) override;
    void on_end(const End& e) override;

    // The figures so far (built on each call: call it once, after reading).
    TraceStats stats() const;

private:
    void timed(std::uint64_t time_ns) noexcept {
        ++records_;
        if (time_ns > duration_ns_) duration_ns_ = time_ns;
    }

    TraceStats rare_;  // the fields the rare records fill directly
    LiveHeap heap_{false};
    std::uint64_t records_ = 0;
    std::uint64_t duration_ns_ = 0;
    std::uint64_t realloc_failed_ = 0;
    // Allocations by AllocFn, then frees by FreeFn, then frees of NULL, in one array.
    static constexpr std::size_t kNullFree = format::kAllocFnCount + format::kFreeFnCount;
    // An event's slot in by_fn_, chosen by selects (no branch on the kind): the heap-event runs
    // take it for every event.
    static std::size_t fn_slot(bool is_alloc, std::size_t fn, std::uint64_t addr) noexcept {
        const std::size_t index = is_alloc ? fn : format::kAllocFnCount + fn;
        return (!is_alloc & (addr == 0)) ? kNullFree : index;
    }
    std::array<std::uint64_t, kNullFree + 1> by_fn_{};
};

}  // namespace heapwise::analyzer
