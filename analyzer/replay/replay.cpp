// The two-pass driver. Pass 1 (only when a peak, a marker or a growth series is asked for) finds
// record positions: where the peak was first reached and where each marker is. Pass 2 replays
// again and captures at those positions, and at times (before the first record later than the
// time asked for), so each capture is O(distinct stacks).
#include "analyzer/replay/replay.hpp"

#include <algorithm>
#include <optional>

namespace heapwise::analyzer {
namespace {

struct Trigger {
    std::uint64_t key = 0;   // a position or a time, by the list the trigger is in
    std::size_t slot = 0;    // index into the captured snapshots
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

ReplayFacts survey(const std::filesystem::path& path, const ReplayRequest& request) {
    TraceReader reader(path);
    report_progress(reader, request, 1, 2);
    HeapReplay replay;
    reader.read(replay);
    return replay.facts();
}

}  // namespace

ReplayResult replay_trace(const std::filesystem::path& path, const ReplayRequest& request) {
    const bool needs_survey =
        request.growth_slices > 0 ||
        std::any_of(request.points.begin(), request.points.end(), [](const PointSpec& p) {
            return p.kind == PointSpec::Kind::kPeak || p.kind == PointSpec::Kind::kMarker;
        });
    ReplayFacts first;
    if (needs_survey) first = survey(path, request);

    std::vector<Trigger> by_position;
    std::vector<Trigger> by_time;
    std::size_t slots = 0;
    auto add = [&](std::vector<Trigger>& list, std::uint64_t key, std::string name,
                   std::optional<std::uint64_t> time_ns = std::nullopt) {
        list.push_back({key, slots++, std::move(name), time_ns});
    };
    for (const PointSpec& p : request.points) {
        switch (p.kind) {
            case PointSpec::Kind::kStart: add(by_position, 0, p.text, 0); break;
            case PointSpec::Kind::kEnd: add(by_position, ~std::uint64_t{0}, p.text); break;
            case PointSpec::Kind::kPeak: add(by_position, first.peak_position, p.text); break;
            case PointSpec::Kind::kTime: add(by_time, p.time_ns, p.text, p.time_ns); break;
            case PointSpec::Kind::kMarker: {
                const auto m = std::find_if(first.markers.begin(), first.markers.end(),
                                            [&](const MarkerAt& x) { return x.label == p.label; });
                if (m == first.markers.end()) {
                    std::string known;
                    for (std::size_t i = 0; i < first.markers.size() && i < 5; ++i) {
                        known += (i ? ", " : "") + first.markers[i].label;
                    }
                    throw SpecError("unknown marker '" + p.label + "': the trace has " +
                                    (first.markers.empty() ? std::string("no markers")
                                                           : "markers " + known +
                                                                 (first.markers.size() > 5 ? ", ..." : "")));
                }
                add(by_position, m->position, p.text, m->time_ns);
                break;
            }
        }
    }
    const std::size_t point_slots = slots;
    bool by_markers = false;
    if (request.growth_slices > 0) {
        add(by_position, 0, "start", 0);
        if (!first.markers.empty()) {
            by_markers = true;
            for (const MarkerAt& m : first.markers) {
                add(by_position, m.position, m.label, m.time_ns);
            }
        } else {
            const std::uint64_t n = request.growth_slices;
            for (std::uint64_t k = 1; k < n; ++k) {
                const std::uint64_t t = slice_time(first.duration_ns, k, n);
                add(by_time, t, "slice-" + std::to_string(k), t);
            }
        }
        add(by_position, ~std::uint64_t{0}, "end");
    }

    // Stable sorts keep request order among equal keys, so captures stay deterministic.
    auto by_key = [](const Trigger& a, const Trigger& b) { return a.key < b.key; };
    std::stable_sort(by_position.begin(), by_position.end(), by_key);
    std::stable_sort(by_time.begin(), by_time.end(), by_key);

    std::vector<std::optional<Snapshot>> captured(slots);
    auto capture = [&](const HeapReplay& r, const Trigger& t, bool at_end) {
        Snapshot s = r.snapshot(t.name);
        // A time past the end is the end: the snapshot says when it really is.
        if (t.time_ns) s.time_ns = at_end ? std::min(*t.time_ns, s.time_ns) : *t.time_ns;
        captured[t.slot] = std::move(s);
    };
    std::size_t next_pos = 0;
    std::size_t next_time = 0;
    HeapReplay replay;
    replay.set_before_record([&](const HeapReplay& r, std::uint64_t time_ns) {
        while (next_pos < by_position.size() && by_position[next_pos].key == r.position()) {
            capture(r, by_position[next_pos++], false);
        }
        while (next_time < by_time.size() && by_time[next_time].key < time_ns) {
            capture(r, by_time[next_time++], false);
        }
    });
    TraceReader reader(path);
    report_progress(reader, request, needs_survey ? 2 : 1, needs_survey ? 2 : 1);
    ReplayResult result;
    result.summary = reader.read(replay);
    replay.set_before_record({});
    while (next_pos < by_position.size()) capture(replay, by_position[next_pos++], true);
    while (next_time < by_time.size()) capture(replay, by_time[next_time++], true);

    result.facts = replay.facts();
    for (std::size_t i = 0; i < slots; ++i) {
        Snapshot& s = *captured[i];
        if (i < point_slots) {
            result.points.push_back(std::move(s));
        } else {
            result.growth.push_back(std::move(s));
        }
    }
    result.growth_by_markers = by_markers;
    result.stacks = reader.stacks();
    result.stack_generations = replay.stack_generations();
    result.modules = replay.modules();
    return result;
}

}  // namespace heapwise::analyzer
