// The heap over time, from one streaming pass over a trace: the live heap after every heap event
// (LiveHeap, the replay's own core: reallocs, failed reallocs, sampled weights), max-downsampled to at most
// max_points points so the peak is never lost; RSS samples downsampled the same way with the heap
// at each; markers; the peak and the end. Memory: the replay's live blocks and stacks plus
// O(max_points + max_markers), never the number of events. `heapwise timeline` writes it as CSV
// and SVG (timeline_csv, timeline_svg; docs/timeline.md).
//
//   Timeline t = build_timeline("trace.hwt");  // TraceError if the file is not a usable trace
//   t.heap.back().heap_bytes == t.end_bytes;     t.peak_bytes, t.peak_time_ns
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/record_decoder.hpp"
#include "analyzer/replay/heap_replay.hpp"
#include "analyzer/replay/live_heap.hpp"
#include "analyzer/timeline/downsample.hpp"
#include "analyzer/trace_reader.hpp"

namespace heapwise::analyzer {

struct TimelineOptions {
    static constexpr std::size_t kDefaultPoints = 2000;
    static constexpr std::size_t kMinPoints = 4;
    // Per series (heap, RSS); at least kMinPoints (std::invalid_argument otherwise).
    std::size_t max_points = kDefaultPoints;
    std::size_t max_markers = 1000;           // markers kept (the first ones); the rest are counted
};

struct HeapPoint {
    std::uint64_t time_ns = 0;
    std::uint64_t heap_bytes = 0;
};

struct TimelineMarker {
    std::uint64_t time_ns = 0;
    std::string label;
};

struct Timeline {
    // Time order. The first point is (0, 0), the empty heap at the start; the last is
    // (duration_ns, end_bytes); between them each bucket's largest heap, at its own time.
    std::vector<HeapPoint> heap;
    std::vector<RssSample> rss;            // bucket maxima of RSS, each with the heap at that moment
    std::vector<TimelineMarker> markers;   // the first max_markers markers, in time order
    std::uint64_t markers_total = 0;
    std::uint64_t peak_bytes = 0;          // as HeapReplay: the first time the maximum is reached
    std::uint64_t peak_time_ns = 0;
    std::uint64_t end_bytes = 0;
    std::uint64_t duration_ns = 0;         // time of the last record
    std::uint64_t max_rss_bytes = 0;
    std::uint64_t rss_samples = 0;         // kRss records read
    std::uint64_t heap_events = 0;         // allocations, frees and failed reallocs replayed
    std::uint64_t heap_bucket_ns = 1;      // time resolution of `heap` (1: every nanosecond kept)
    bool estimated = false;                // sampled trace: heap bytes are scaled estimates
    std::uint64_t lost_events = 0;         // allocations and frees a lossy tracer dropped
    std::uint64_t damaged = 0;             // pieces of damage the reader skipped
    std::uint64_t pid = 0;
    std::string exe;
};

// The visitor: pass it to TraceReader::read (or the CLI's read_trace_input), then finish().
// Every event that changes the replayed heap must be forwarded to heap_ (a new kind of event the
// decoder reports must be added here too). Heap events are inline: one LiveHeap call and one
// downsampler step each.
class TimelineBuilder final : public EventVisitor {
public:
    explicit TimelineBuilder(const TimelineOptions& options = {});

    void on_process_info(const ProcessInfo& e) override;
    void on_module_load(const ModuleLoad& e) override { timed(e.time_ns); }
    void on_module_unload(const ModuleUnload& e) override { timed(e.time_ns); }
    void on_thread_start(const ThreadStart& e) override { timed(e.time_ns); }
    void on_thread_exit(const ThreadExit& e) override { timed(e.time_ns); }
    void on_thread_name(const ThreadName& e) override { timed(e.time_ns); }
    void on_internal_stack(const InternalStack& e) override { heap_.add_internal(e.stack); }
    void on_alloc(const Alloc& e) override {
        heap_.alloc(e);
        heap_changed(e.time_ns);
    }
    void on_free(const Free& e) override {
        heap_.free(e);
        heap_changed(e.time_ns);
    }
    // The decoder's runs of allocs and frees (HeapBatchVisitor): as on_alloc and on_free one by
    // one, with the address table's slots prefetched ahead.
    void on_heap_events(std::span<const HeapEvent> events) {
        heap_.apply(events, [this](const HeapEvent& e, std::uint64_t live_bytes) {
            ++heap_events_;
            points_.add(timed(e.time_ns), live_bytes);
        });
    }
    void on_realloc_failed(const ReallocFailed& e) override {
        heap_.realloc_failed(e);
        heap_changed(e.time_ns);
    }
    void on_marker(const Marker& e) override;
    void on_rss(const Rss& e) override;
    void on_lost(const Lost& e) override {
        timed(e.time_ns);
        lost_events_ += e.allocs + e.frees;
    }
    void on_end(const End& e) override { timed(e.time_ns); }
    void on_damage(const TraceError&) override { ++damaged_; }

    // The timeline of everything read so far. Call after reading; the builder stays usable.
    Timeline finish() const;

private:
    std::uint64_t timed(std::uint64_t time_ns) noexcept {
        if (time_ns > last_time_ns_) last_time_ns_ = time_ns;
        return last_time_ns_;
    }
    void heap_changed(std::uint64_t time_ns) {
        ++heap_events_;
        points_.add(timed(time_ns), heap_.totals().live_bytes);
    }

    TimelineOptions options_;
    LiveHeap heap_{false};  // totals only: a timeline needs no per-stack figures
    MaxDownsampler points_;
    MaxDownsampler rss_;
    std::uint64_t last_time_ns_ = 0;
    std::uint64_t heap_events_ = 0;
    std::uint64_t rss_samples_ = 0;
    std::uint64_t max_rss_ = 0;
    std::uint64_t markers_total_ = 0;
    std::uint64_t lost_events_ = 0;
    std::uint64_t damaged_ = 0;
    bool seen_process_ = false;
    std::uint64_t pid_ = 0;
    std::string exe_;
    std::vector<TimelineMarker> markers_;
};

// Reads the whole file. Throws TraceError when it is not a usable trace; damage inside is read
// past and counted in Timeline::damaged (and in *summary when given).
Timeline build_timeline(const std::filesystem::path& path, const TimelineOptions& options = {},
                        ReadSummary* summary = nullptr);

// CSV: the header line "time_s,heap_bytes,rss_bytes", then one row per heap point and per RSS
// point, in time order (an RSS row first on equal times). time_s is seconds with 9 decimals.
// Heap rows: the heap at that moment and the latest RSS row's value before it (empty before the
// first RSS row). RSS rows: the sample and the heap when it was taken.
std::string timeline_csv(const Timeline& timeline);

struct SvgOptions {
    int width = 960;
    int height = 480;
    std::string title;  // empty: "heap over time: <exe> (pid N)"
};

// A self-contained SVG document (no scripts, no external fonts, stylesheets or links): heap and
// RSS lines against time, axes in human units, markers as labelled dashed vertical lines, the
// peak marked and labelled with its size and time.
std::string timeline_svg(const Timeline& timeline, const SvgOptions& options = {});

}  // namespace heapwise::analyzer
