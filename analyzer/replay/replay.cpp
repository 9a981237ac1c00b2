// The driver. One pass captures everything whose place it can tell as it reads: start and end,
// times (before the first record later than the time asked for), markers as they come, the peak
// (HeapReplay keeps every stack's usage as at the peak while it rises) and a growth series at the
// markers. Only a growth series over equal time slices needs the trace's duration first: when the
// trace has no markers, a second pass captures the slices. Each capture is O(distinct stacks).
#include "analyzer/replay/replay.hpp"

#include <algorithm>
#include <optional>

namespace heapwise::analyzer {
namespace {

struct Trigger {
    std::uint64_t key = 0;   // a position or a time, by the list the trigger is in
    std::optional<Snapshot>* slot = nullptr;
    std::string name;
    std::optional<std::uint64_t> time_ns;  // the snapshot's time when not the last record's
};

// floor(duration * k / n) without overflow (k < n).
std::uint64_t slice_time(std::uint64_t duration, std::uint64_t k, std::uint64_t n) {
    return duration / n * k + duration % n * k / n;
}

void report_progress(TraceReader& reader, const ReplayRequest& request, int pass, int passes) {
    if (!request.progress) return;
    reader.set_progress([&request, pass, passes](std::uint64_t done, std::uint64_t size) {
        request.progress({pass, passes, done, size});
    });
}

void capture(const HeapReplay& r, const Trigger& t, bool at_end) {
    Snapshot s = r.snapshot(t.name);
    // A time past the end is the end: the snapshot says when it really is.
    if (t.time_ns) s.time_ns = at_end ? std::min(*t.time_ns, s.time_ns) : *t.time_ns;
    *t.slot = std::move(s);
}

// Replays the whole file once, capturing at the triggers (positions and times, each list sorted by
// key) and whatever `on_marker` captures; returns what the reader reported.
ReadSummary replay_once(TraceReader& reader, HeapReplay& replay, std::vector<Trigger>& by_position,
                        std::vector<Trigger>& by_time) {
    // Stable sorts keep request order among equal keys, so captures stay deterministic.
    auto by_key = [](const Trigger& a, const Trigger& b) { return a.key < b.key; };
    std::stable_sort(by_position.begin(), by_position.end(), by_key);
    std::stable_sort(by_time.begin(), by_time.end(), by_key);
    std::size_t next_pos = 0;
    std::size_t next_time = 0;
    auto next_stop = [&] {  // called only at stops, never per record
        HeapReplay::Stop stop;
        if (next_pos < by_position.size()) stop.at_position = by_position[next_pos].key;
        if (next_time < by_time.size()) stop.after_time_ns = by_time[next_time].key;
        return stop;
    };
    replay.set_stop_hook(
        [&](const HeapReplay& r, std::uint64_t time_ns) {
            while (next_pos < by_position.size() && by_position[next_pos].key <= r.position()) {
                capture(r, by_position[next_pos++], false);
            }
            while (next_time < by_time.size() && by_time[next_time].key < time_ns) {
                capture(r, by_time[next_time++], false);
            }
            return next_stop();
        },
        next_stop());
    ReadSummary summary = reader.read_with(replay);  // HeapReplay is final: direct, inlined calls
    replay.set_stop_hook({}, {});
    while (next_pos < by_position.size()) capture(replay, by_position[next_pos++], true);
    while (next_time < by_time.size()) capture(replay, by_time[next_time++], true);
    return summary;
}

[[noreturn]] void unknown_marker(const std::string& label, const std::vector<MarkerAt>& markers) {
    std::string known;
    for (std::size_t i = 0; i < markers.size() && i < 5; ++i) known += (i ? ", " : "") + markers[i].label;
    throw SpecError("unknown marker '" + label + "': the trace has " +
                    (markers.empty() ? std::string("no markers")
                                     : "markers " + known + (markers.size() > 5 ? ", ..." : "")));
}

}  // namespace

ReplayResult replay_trace(const std::filesystem::path& path, const ReplayRequest& request) {
    constexpr std::uint64_t kEnd = ~std::uint64_t{0};
    const bool growth = request.growth_slices > 0;
    std::vector<std::optional<Snapshot>> points(request.points.size());
    std::vector<Trigger> by_position;
    std::vector<Trigger> by_time;
    struct MarkerPoint {
        std::size_t point = 0;  // index in request.points
        bool done = false;
    };
    std::vector<MarkerPoint> marker_points;  // the first marker with the label is captured
    bool wants_peak = false;
    for (std::size_t i = 0; i < request.points.size(); ++i) {
        const PointSpec& p = request.points[i];
        switch (p.kind) {
            case PointSpec::Kind::kStart: by_position.push_back({0, &points[i], p.text, 0}); break;
            case PointSpec::Kind::kEnd: by_position.push_back({kEnd, &points[i], p.text, {}}); break;
            case PointSpec::Kind::kPeak: wants_peak = true; break;
            case PointSpec::Kind::kTime: by_time.push_back({p.time_ns, &points[i], p.text, p.time_ns}); break;
            case PointSpec::Kind::kMarker: marker_points.push_back({i, false}); break;
        }
    }
    // The growth series: start, every marker (in file order, captured as they come), end.
    std::optional<Snapshot> growth_start;
    std::optional<Snapshot> growth_end;
    std::vector<Snapshot> growth_markers;
    if (growth) {
        by_position.push_back({0, &growth_start, "start", 0});
        by_position.push_back({kEnd, &growth_end, "end", {}});
    }

    TraceReader reader(path);
    report_progress(reader, request, 1, growth ? 2 : 1);
    HeapReplay replay(wants_peak ? HeapReplay::Detail::kStacksAndPeak : HeapReplay::Detail::kStacks);
    if (!marker_points.empty() || growth) {
        replay.set_marker_hook([&](const HeapReplay& r, const Marker& m) {
            for (MarkerPoint& mp : marker_points) {
                const PointSpec& p = request.points[mp.point];
                if (mp.done || p.label != m.label) continue;
                points[mp.point] = r.snapshot(p.text);
                points[mp.point]->time_ns = m.time_ns;
                mp.done = true;  // later markers with the label are not this point
            }
            if (growth) {
                growth_markers.push_back(r.snapshot(m.label));
                growth_markers.back().time_ns = m.time_ns;
            }
        });
    }
    ReplayResult result;
    result.summary = replay_once(reader, replay, by_position, by_time);
    result.facts = replay.facts();
    for (const MarkerPoint& mp : marker_points) {
        if (!mp.done) unknown_marker(request.points[mp.point].label, result.facts.markers);
    }
    for (std::size_t i = 0; i < request.points.size(); ++i) {
        if (request.points[i].kind == PointSpec::Kind::kPeak) points[i] = replay.peak_snapshot(request.points[i].text);
        result.points.push_back(std::move(*points[i]));
    }

    if (growth) {
        result.growth.push_back(std::move(*growth_start));
        if (!growth_markers.empty()) {
            result.growth_by_markers = true;
            for (Snapshot& s : growth_markers) result.growth.push_back(std::move(s));
        } else {
            // No markers: equal time slices of the duration, which only this first pass told.
            const std::uint64_t n = request.growth_slices;
            std::vector<std::optional<Snapshot>> slices(n > 0 ? n - 1 : 0);
            std::vector<Trigger> slice_times;
            for (std::uint64_t k = 1; k < n; ++k) {
                const std::uint64_t t = slice_time(result.facts.duration_ns, k, n);
                slice_times.push_back({t, &slices[k - 1], "slice-" + std::to_string(k), t});
            }
            TraceReader again(path);
            report_progress(again, request, 2, 2);
            HeapReplay slice_replay;
            std::vector<Trigger> none;
            replay_once(again, slice_replay, none, slice_times);
            for (std::optional<Snapshot>& s : slices) result.growth.push_back(std::move(*s));
        }
        result.growth.push_back(std::move(*growth_end));
    }
    result.stacks = reader.stacks();
    result.stack_generations = replay.stack_generations();
    result.modules = std::move(replay.modules());
    return result;
}

}  // namespace heapwise::analyzer
