// One call that reads a trace and returns the snapshots a report needs: at the points asked for
// ("start", "end", "peak", a time, a marker) and, for growth-leak detection, at every marker or
// at equal time slices. One pass captures them all, except equal time slices (a growth series on
// a trace without markers), which need the duration from a first pass. Memory: live blocks +
// distinct stacks x (snapshots + 1 for the peak), never the events.
//
//   ReplayRequest req;
//   req.points = {parse_point("start"), parse_point("snap-3")};
//   ReplayResult r = replay_trace("trace.hwt", req);   // TraceError, SpecError (unknown marker)
//   r.points[1].stacks                                  // StackId -> StackUsage at snap-3
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/heap_replay.hpp"
#include "analyzer/replay/specs.hpp"
#include "analyzer/stack_table.hpp"
#include "analyzer/symbols/module_map.hpp"
#include "analyzer/trace_reader.hpp"

namespace heapwise::analyzer {

struct ReplayRequest {
    std::vector<PointSpec> points;
    // 0: no growth series. Otherwise the series is captured at start, every marker and end, or,
    // when the trace has no markers, at growth_slices + 1 equal time steps from 0 to the end.
    std::size_t growth_slices = 0;
    // Optional: progress of the reading, once per block (TraceReader::set_progress). passes is 2
    // when a growth series is asked for (a trace without markers needs a second pass for its time
    // slices; with markers the reading ends after pass 1), else 1.
    struct Progress {
        int pass = 1;
        int passes = 1;
        std::uint64_t bytes_read = 0;
        std::uint64_t file_size = 0;
    };
    std::function<void(const Progress&)> progress;
};

struct ReplayResult {
    ReplayFacts facts;
    ReadSummary summary;                 // damage the reader met (first pass; a second sees the same)
    std::vector<Snapshot> points;        // one per request point, in request order
    std::vector<Snapshot> growth;        // the growth series, in time order (may be empty)
    bool growth_by_markers = false;      // series boundaries are markers, not time slices
    StackTable stacks;                   // frames of every stack the trace defined
    ModuleMap modules;                   // the trace's modules over time
    std::unordered_map<StackId, MapGeneration> stack_generations;
};

// Throws TraceError when the file is not a usable trace, SpecError for a marker label the trace
// does not have. A time after the trace's end captures the end state.
ReplayResult replay_trace(const std::filesystem::path& path, const ReplayRequest& request);

}  // namespace heapwise::analyzer
