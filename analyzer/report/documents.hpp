// What `heapwise report`, `diff` and `leaks` say, as plain data: built from replayed and grouped
// snapshots, then rendered as text (render_text.hpp) or JSON (render_json.hpp,
// docs/report-json.md). Keeping the figures apart from their rendering is what makes the two
// outputs agree. Sizes are bytes, times nanoseconds since the trace's start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/replay/leaks.hpp"
#include "analyzer/report/source_lines.hpp"

namespace heapwise::analyzer {

// How a trace was recorded and read: what a reader must know to trust its figures.
struct TraceSummary {
    std::string path;
    std::uint64_t file_size = 0;
    std::optional<std::uint64_t> pid;
    std::string exe;
    std::string mode = "unknown";     // lossless, lossy, sampled (unknown: no process info)
    bool estimated = false;           // sampled: every byte and count figure is an estimate
    std::uint64_t sample_interval = 0;
    std::uint64_t lost_allocs = 0;    // events a lossy tracer dropped
    std::uint64_t lost_frees = 0;
    std::uint64_t lost_bytes = 0;
    std::uint64_t damaged = 0;        // pieces of damage skipped while reading
    std::uint64_t damage_offset = 0;  // byte offset of the first one
    std::string damage_message;       // the first one's message
    std::uint64_t duration_ns = 0;
};
TraceSummary summarize(const std::string& path, std::uint64_t file_size, const ReplayResult& r);

// One row of a table: a group of allocation sites and its figures at a point.
struct Row {
    std::string key;
    std::string function;  // the site frame's parts (empty when unknown)
    std::string file;
    std::uint32_t line = 0;
    std::string module;
    std::vector<std::string> traceback;  // by traceback: the folded frames, site first
    std::uint64_t size = 0;              // live bytes
    std::int64_t size_diff = 0;
    std::uint64_t count = 0;             // live blocks
    std::int64_t count_diff = 0;
    std::uint64_t allocs = 0;            // allocations up to the point
    std::uint64_t temporary = 0;
    std::optional<std::string> source;   // by lineno: the code line, when the file is readable
};

struct PointSummary {
    std::string text;  // as the user wrote it ("start", "snap-3", "90s")
    std::uint64_t time_ns = 0;
    std::uint64_t bytes = 0;  // live bytes kept by the filters
    std::uint64_t count = 0;
};

struct ReportDoc {
    TraceSummary trace;
    GroupBy by = GroupBy::kLineno;
    std::size_t top = 0;
    std::uint64_t allocations = 0, frees = 0, bytes_allocated = 0, temporary = 0;
    std::uint64_t peak_bytes = 0, peak_count = 0, peak_time_ns = 0;
    std::optional<RssSample> rss_at_peak;  // the last RSS sample at or before the peak
    std::uint64_t end_bytes = 0, end_count = 0;
    std::optional<RssSample> max_rss;      // the first sample with the highest RSS
    std::uint64_t rss_samples = 0;
    std::uint64_t markers = 0;
    std::vector<Row> by_peak, by_leaked, by_allocs;
};

struct DiffDoc {
    TraceSummary older, newer;  // the same trace twice for a diff within one trace
    bool two_traces = false;
    PointSummary from, to;
    GroupBy by = GroupBy::kLineno;
    std::size_t top = 0;
    std::uint64_t min_growth = 0;
    std::int64_t size_diff = 0;   // to.bytes - from.bytes
    std::int64_t count_diff = 0;
    std::vector<Row> rows;
    std::optional<std::uint64_t> fail_on_growth;
    bool failed = false;          // size_diff > fail_on_growth
};

struct GrowthRow {
    Row row;  // size/count: live at the end of the series
    std::size_t rising = 0, intervals = 0;
    std::uint64_t first_bytes = 0, max_bytes = 0, last_bytes = 0;
    double bytes_per_second = 0;
};

struct LeaksDoc {
    TraceSummary trace;
    GroupBy by = GroupBy::kTraceback;
    std::size_t top = 0;
    std::uint64_t leaked_bytes = 0, leaked_count = 0;
    std::size_t leak_groups = 0;   // groups live at the end, before --top
    std::vector<Row> at_end;
    bool growth_by_markers = false;
    std::size_t growth_snapshots = 0;
    std::uint64_t growing_bytes = 0;  // sum of (max - first) over every growth leak
    std::size_t growth_groups = 0;
    std::vector<GrowthRow> growth;
    std::optional<std::uint64_t> fail_on_growth;
    std::uint64_t checked_bytes = 0;  // max(leaked_bytes, growing_bytes): what the threshold sees
    bool failed = false;
};

// Grouping choices shared by the three commands.
struct TableOptions {
    GroupBy by = GroupBy::kLineno;
    std::size_t top = 10;       // 0: every row
    std::uint64_t min_growth = 0;
    GroupFilters filters;
};

// r.points must be {peak, end}.
ReportDoc build_report(const TraceSummary& trace, const ReplayResult& r, StackSymbols& symbols,
                       const TableOptions& options, SourceLines& sources);
// older/newer: each trace's replay and the index of its point (the same result twice within
// one trace).
DiffDoc build_diff(const TraceSummary& older_trace, const ReplayResult& older, std::size_t older_point,
                   StackSymbols& older_symbols, const TraceSummary& newer_trace,
                   const ReplayResult& newer, std::size_t newer_point, StackSymbols& newer_symbols,
                   bool two_traces, const TableOptions& options,
                   std::optional<std::uint64_t> fail_on_growth, SourceLines& sources);
// r.points must be {end} and r.growth the series.
LeaksDoc build_leaks(const TraceSummary& trace, const ReplayResult& r, StackSymbols& symbols,
                     const TableOptions& options, std::optional<std::uint64_t> fail_on_growth,
                     SourceLines& sources);

}  // namespace heapwise::analyzer
