// HeapReplay's rare events (process info, modules, stacks, markers, RSS, losses), its stops and
// the figures it hands out. The heap events themselves are inline in the header over LiveHeap,
// whose rules `heapwise stats` and the timeline share.
#include "analyzer/replay/heap_replay.hpp"

#include <algorithm>

namespace heapwise::analyzer {

void HeapReplay::stopped(std::uint64_t time_ns) {
    stop_ = hook_ ? hook_(*this, time_ns) : Stop{};
}

void HeapReplay::on_process_info(const ProcessInfo& e) {
    record(last_time_ns_);
    if (process_) return;
    process_ = e;
    if (e.mode == Mode::kSampled && e.sample_interval > 0) heap_.set_sample_interval(e.sample_interval);
}

void HeapReplay::on_module_load(const ModuleLoad& e) {
    record(e.time_ns);
    if (detail_ == Detail::kTotals) return;
    ModuleImage image{e.path, e.build_id, e.load_bias, {}};
    for (const auto& s : e.segments) image.segments.push_back({s.vaddr, s.memsz, s.offset, s.flags});
    modules_.add(static_cast<std::uint64_t>(e.module), std::move(image), e.time_ns);
}

void HeapReplay::on_module_unload(const ModuleUnload& e) {
    record(e.time_ns);
    if (detail_ == Detail::kTotals) return;
    modules_.remove(static_cast<std::uint64_t>(e.module), e.time_ns);
}

void HeapReplay::on_stack(const StackDef& e) {
    record(last_time_ns_);
    if (detail_ == Detail::kTotals) return;
    // The tracer emits a module's load before any stack that needs it (trace_format.hpp), so the
    // current generation resolves this stack's frames even if the module is unloaded later.
    stack_gen_[e.id] = modules_.generation();
}

void HeapReplay::on_internal_stack(const InternalStack& e) {
    record(last_time_ns_);
    heap_.add_internal(e.stack);
}

void HeapReplay::on_marker(const Marker& e) {
    if (marker_hook_) marker_hook_(*this, e);
    markers_.push_back({e.time_ns, position_, e.label});
    record(e.time_ns);
}

void HeapReplay::on_rss(const Rss& e) {
    record(e.time_ns);
    rss_.push_back({e.time_ns, e.rss_bytes, heap_.totals().live_bytes});
    max_rss_bytes_ = std::max(max_rss_bytes_, e.rss_bytes);
}

void HeapReplay::on_lost(const Lost& e) {
    record(e.time_ns);
    lost_allocs_ += e.allocs;
    lost_frees_ += e.frees;
    lost_bytes_ += e.bytes;
}

ReplayFacts HeapReplay::facts() const {
    const LiveTotals& t = heap_.totals();
    ReplayFacts f;
    f.process = process_;
    f.sampled = heap_.sampled();
    f.sample_interval = process_ ? process_->sample_interval : 0;
    f.duration_ns = last_time_ns_;
    f.records = position_;
    f.allocs = t.allocs;
    f.frees = t.frees;
    f.bytes_allocated = t.bytes_allocated;
    f.temporary = t.temporary;
    f.peak_bytes = t.peak_bytes;
    f.peak_count = t.peak_count;
    f.peak_time_ns = t.peak_time_ns;
    f.peak_position = peak_position_;
    f.end_bytes = t.live_bytes;
    f.end_count = t.live_count;
    f.max_rss_bytes = max_rss_bytes_;
    f.rss = rss_;
    f.markers = markers_;
    f.lost_allocs = lost_allocs_;
    f.lost_frees = lost_frees_;
    f.lost_bytes = lost_bytes_;
    f.damaged = damaged_;
    f.free_of_unknown = t.free_of_unknown;
    f.alloc_of_live = t.alloc_of_live;
    f.realloc_failed_unknown = t.realloc_failed_unknown;
    return f;
}

namespace {

// What every snapshot carries besides its stacks.
Snapshot snapshot_head(std::string point, std::uint64_t time_ns, std::uint64_t position,
                       std::uint64_t bytes, std::uint64_t count, bool estimated) {
    Snapshot s;
    s.point = std::move(point);
    s.time_ns = time_ns;
    s.position = position;
    s.live_bytes = bytes;
    s.live_count = count;
    s.estimated = estimated;
    return s;
}

}  // namespace

Snapshot HeapReplay::snapshot(std::string point) const {
    const LiveTotals& t = heap_.totals();
    Snapshot s = snapshot_head(std::move(point), last_time_ns_, position_, t.live_bytes,
                               t.live_count, heap_.sampled());
    heap_.for_each_stack([&s](StackId id, const StackUsage& u) { s.stacks.emplace(id, u); });
    s.internal_stacks = heap_.internal_stacks();
    return s;
}

Snapshot HeapReplay::peak_snapshot(std::string point) const {
    const LiveTotals& t = heap_.totals();
    Snapshot s = snapshot_head(std::move(point), peak_last_time_ns_, peak_position_, t.peak_bytes,
                               t.peak_count, heap_.sampled());
    heap_.for_each_peak_stack([&s](StackId id, const StackUsage& u) { s.stacks.emplace(id, u); });
    const std::vector<StackId>& internal = heap_.internal_stacks();
    s.internal_stacks.assign(internal.begin(), internal.begin() + static_cast<std::ptrdiff_t>(peak_internal_));
    return s;
}

}  // namespace heapwise::analyzer
