// TimelineBuilder: heap events go to a LiveHeap (the replay's core, so the heap here is exactly
// the report's, peak included) and its live bytes are sampled after each one. RSS samples and
// markers are kept here, bounded, as the timeline needs them.
#include "analyzer/timeline/timeline.hpp"

#include <stdexcept>

namespace heapwise::analyzer {
namespace {

std::size_t heap_buckets(const TimelineOptions& options) {
    if (options.max_points < TimelineOptions::kMinPoints) {
        throw std::invalid_argument("a timeline needs at least " +
                                    std::to_string(TimelineOptions::kMinPoints) + " points");
    }
    // Two of the points are the start and the end, which finish() always adds.
    return options.max_points - 2;
}

}  // namespace

TimelineBuilder::TimelineBuilder(const TimelineOptions& options)
    : options_(options), points_(heap_buckets(options)), rss_(options.max_points) {}

void TimelineBuilder::on_process_info(const ProcessInfo& e) {
    timed(0);
    if (seen_process_) return;  // the first one describes the trace, as in HeapReplay
    seen_process_ = true;
    pid_ = e.pid;
    exe_ = e.exe;
    if (e.mode == Mode::kSampled && e.sample_interval > 0) heap_.set_sample_interval(e.sample_interval);
}

void TimelineBuilder::on_marker(const Marker& e) {
    const std::uint64_t t = timed(e.time_ns);
    ++markers_total_;
    if (markers_.size() < options_.max_markers) markers_.push_back({t, e.label});
}

void TimelineBuilder::on_rss(const Rss& e) {
    const std::uint64_t t = timed(e.time_ns);
    ++rss_samples_;
    if (e.rss_bytes > max_rss_) max_rss_ = e.rss_bytes;
    rss_.add(t, e.rss_bytes, heap_.totals().live_bytes);
}

Timeline TimelineBuilder::finish() const {
    const LiveTotals& f = heap_.totals();
    Timeline t;
    t.heap.push_back({0, 0});  // the empty heap at the start
    for (const SeriesPoint& p : points_.points()) t.heap.push_back({p.time_ns, p.value});
    const HeapPoint end{last_time_ns_, f.live_bytes};
    if (t.heap.back().time_ns != end.time_ns || t.heap.back().heap_bytes != end.heap_bytes) {
        t.heap.push_back(end);
    }
    for (const SeriesPoint& p : rss_.points()) t.rss.push_back({p.time_ns, p.value, p.extra});
    t.markers = markers_;
    t.markers_total = markers_total_;
    t.peak_bytes = f.peak_bytes;
    t.peak_time_ns = f.peak_time_ns;
    t.end_bytes = f.live_bytes;
    t.duration_ns = last_time_ns_;
    t.max_rss_bytes = max_rss_;
    t.rss_samples = rss_samples_;
    t.heap_events = heap_events_;
    t.heap_bucket_ns = points_.bucket_ns();
    t.estimated = heap_.sampled();
    t.lost_events = lost_events_;
    t.damaged = damaged_;
    t.pid = pid_;
    t.exe = exe_;
    return t;
}

Timeline build_timeline(const std::filesystem::path& path, const TimelineOptions& options,
                        ReadSummary* summary) {
    TimelineBuilder builder(options);
    TraceReader reader(path);
    ReadSummary s = reader.read_with(builder);  // final: direct, inlined calls per event
    if (summary != nullptr) *summary = std::move(s);
    return builder.finish();
}

}  // namespace heapwise::analyzer
