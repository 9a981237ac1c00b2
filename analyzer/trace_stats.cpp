// The statistics replay's rare records and the figures it hands out. The live heap, its peak,
// reallocs and failed reallocs and its inconsistencies are LiveHeap's (replay/live_heap.hpp),
// the same rules the report replays with.
#include "analyzer/trace_stats.hpp"

#include <algorithm>

namespace heapwise::analyzer {

void StatsBuilder::on_process_info(const ProcessInfo& e) {
    ++records_;
    if (!rare_.process) rare_.process = e;
}
void StatsBuilder::on_module_load(const ModuleLoad& e) {
    timed(e.time_ns);
    ++rare_.modules;
}
void StatsBuilder::on_module_unload(const ModuleUnload& e) {
    timed(e.time_ns);
    ++rare_.module_unloads;
}
void StatsBuilder::on_thread_start(const ThreadStart& e) {
    timed(e.time_ns);
    ++rare_.threads;
}
void StatsBuilder::on_stack(const StackDef&) {
    ++records_;
    ++rare_.stacks;
}
void StatsBuilder::on_internal_stack(const InternalStack& e) {
    ++records_;
    heap_.add_internal(e.stack);
}
void StatsBuilder::on_marker(const Marker& e) {
    timed(e.time_ns);
    ++rare_.markers;
    if (rare_.marker_labels.size() < TraceStats::kMaxLabels) rare_.marker_labels.push_back(e.label);
}
void StatsBuilder::on_rss(const Rss& e) {
    timed(e.time_ns);
    ++rare_.rss_samples;
    rare_.max_rss_bytes = std::max(rare_.max_rss_bytes, e.rss_bytes);
}
void StatsBuilder::on_lost(const Lost& e) {
    timed(e.time_ns);
    rare_.lost_allocs += e.allocs;
    rare_.lost_frees += e.frees;
    rare_.lost_bytes += e.bytes;
}
void StatsBuilder::on_end(const End& e) {
    timed(e.time_ns);
    rare_.end = e;
}

TraceStats StatsBuilder::stats() const {
    const LiveTotals& t = heap_.totals();
    TraceStats s = rare_;
    s.records = records_;
    s.duration_ns = duration_ns_;
    s.allocs = t.allocs;
    std::copy_n(by_fn_.begin(), s.allocs_by_fn.size(), s.allocs_by_fn.begin());
    s.frees = t.frees;
    std::copy_n(by_fn_.begin() + format::kAllocFnCount, s.frees_by_fn.size(), s.frees_by_fn.begin());
    s.frees_null = by_fn_[kNullFree];
    s.realloc_failed = realloc_failed_;
    s.reallocs = s.allocs_by_fn[static_cast<std::size_t>(AllocFn::kRealloc)] +
                 s.allocs_by_fn[static_cast<std::size_t>(AllocFn::kReallocArray)] + realloc_failed_;
    s.events = t.allocs + t.frees + s.frees_null + realloc_failed_;
    s.bytes_allocated = t.bytes_allocated;
    s.peak_live_bytes = t.peak_bytes;
    s.peak_live_blocks = t.peak_count;
    s.peak_time_ns = t.peak_time_ns;
    s.live_bytes = t.live_bytes;
    s.live_blocks = t.live_count;
    s.free_of_unknown = t.free_of_unknown;
    s.alloc_of_live = t.alloc_of_live;
    s.realloc_failed_unknown = t.realloc_failed_unknown;
    return s;
}

}  // namespace heapwise::analyzer
