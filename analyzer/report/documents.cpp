// Builders of the report documents: group the replayed snapshots, pick and order the rows
// (the replay library's compare/leaks_at_end/growth_leaks/report_data do the choosing), and
// attach what a reader needs beside the figures: the site's parts and its source line.
#include "analyzer/report/documents.hpp"

#include <algorithm>

namespace heapwise::analyzer {
namespace {

Row make_row(const std::string& key, const GroupEntry& e, GroupBy by, SourceLines& sources) {
    Row row;
    row.key = key;
    row.function = e.site.function;
    row.file = e.site.file;
    row.line = e.site.line;
    row.module = e.site.module;
    row.traceback = e.traceback;
    row.size = e.bytes;
    row.size_diff = static_cast<std::int64_t>(e.bytes);
    row.count = e.count;
    row.count_diff = static_cast<std::int64_t>(e.count);
    row.allocs = e.allocs;
    row.temporary = e.temporary;
    if (by == GroupBy::kLineno) row.source = sources.line(e.site.file, e.site.line);
    return row;
}

Row make_row(const DiffRow& d, GroupBy by, SourceLines& sources) {
    Row row = make_row(d.key, d.entry, by, sources);
    row.size = d.size;
    row.size_diff = d.size_diff;
    row.count = d.count;
    row.count_diff = d.count_diff;
    return row;
}

std::vector<Row> rows_of(const std::vector<DiffRow>& rows, GroupBy by, SourceLines& sources) {
    std::vector<Row> out;
    out.reserve(rows.size());
    for (const DiffRow& d : rows) out.push_back(make_row(d, by, sources));
    return out;
}

std::int64_t difference(std::uint64_t now, std::uint64_t before) {
    return static_cast<std::int64_t>(now - before);  // two's complement: exact for real sizes
}

}  // namespace

TraceSummary summarize(const std::string& path, std::uint64_t file_size, const ReplayResult& r) {
    TraceSummary t;
    t.path = path;
    t.file_size = file_size;
    if (r.facts.process) {
        t.pid = r.facts.process->pid;
        t.exe = r.facts.process->exe;
        t.mode = to_string(r.facts.process->mode);
        t.sample_interval = r.facts.sample_interval;
    }
    t.estimated = r.facts.sampled;
    t.lost_allocs = r.facts.lost_allocs;
    t.lost_frees = r.facts.lost_frees;
    t.lost_bytes = r.facts.lost_bytes;
    t.damaged = r.summary.damaged;
    if (!r.summary.damage.empty()) {
        t.damage_offset = r.summary.damage.front().offset();
        t.damage_message = r.summary.damage.front().what();
    }
    t.duration_ns = r.facts.duration_ns;
    return t;
}

ReportDoc build_report(const TraceSummary& trace, const ReplayResult& r, StackSymbols& symbols,
                       const TableOptions& options, SourceLines& sources) {
    ReportDoc doc;
    doc.trace = trace;
    doc.by = options.by;
    doc.top = options.top;
    const ReplayFacts& f = r.facts;
    doc.allocations = f.allocs;
    doc.frees = f.frees;
    if (f.sampled) {
        // The replay scales each stack's allocations (and temporaries) but counts raw events in
        // facts.allocs/frees; the report gives estimates throughout, from the scaled stacks.
        std::uint64_t allocs = 0;
        for (const auto& [stack, usage] : r.points.at(1).stacks) allocs += usage.allocs;
        doc.allocations = allocs;
        doc.frees = allocs >= f.end_count ? allocs - f.end_count : 0;
    }
    doc.bytes_allocated = f.bytes_allocated;
    doc.temporary = f.temporary;
    doc.peak_bytes = f.peak_bytes;
    doc.peak_count = f.peak_count;
    doc.peak_time_ns = f.peak_time_ns;
    doc.end_bytes = f.end_bytes;
    doc.end_count = f.end_count;
    doc.rss_samples = f.rss.size();
    doc.markers = f.markers.size();
    for (const RssSample& s : f.rss) {
        if (s.time_ns <= f.peak_time_ns) doc.rss_at_peak = s;
        if (!doc.max_rss || s.rss_bytes > doc.max_rss->rss_bytes) doc.max_rss = s;
    }
    const GroupedSnapshot peak = group(r.points.at(0), options.by, &symbols, options.filters);
    const GroupedSnapshot end = group(r.points.at(1), options.by, &symbols, options.filters);
    const ReportData data = report_data(f, peak, end, options.top);
    doc.by_peak = rows_of(data.top_by_peak, options.by, sources);
    doc.by_leaked = rows_of(data.top_by_leaked, options.by, sources);
    for (const SiteRow& s : data.top_by_allocs) {
        doc.by_allocs.push_back(make_row(s.key, s.entry, options.by, sources));
    }
    return doc;
}

DiffDoc build_diff(const TraceSummary& older_trace, const ReplayResult& older, std::size_t older_point,
                   StackSymbols& older_symbols, const TraceSummary& newer_trace,
                   const ReplayResult& newer, std::size_t newer_point, StackSymbols& newer_symbols,
                   bool two_traces, const TableOptions& options,
                   std::optional<std::uint64_t> fail_on_growth, SourceLines& sources) {
    DiffDoc doc;
    doc.older = older_trace;
    doc.newer = newer_trace;
    doc.two_traces = two_traces;
    doc.by = options.by;
    doc.top = options.top;
    doc.min_growth = options.min_growth;
    const GroupedSnapshot a = group(older.points.at(older_point), options.by, &older_symbols, options.filters);
    const GroupedSnapshot b = group(newer.points.at(newer_point), options.by, &newer_symbols, options.filters);
    doc.from = {a.point, a.time_ns, a.bytes, a.count};
    doc.to = {b.point, b.time_ns, b.bytes, b.count};
    doc.size_diff = difference(b.bytes, a.bytes);
    doc.count_diff = difference(b.count, a.count);
    doc.rows = rows_of(compare(a, b, {options.top, options.min_growth}), options.by, sources);
    doc.fail_on_growth = fail_on_growth;
    doc.failed = fail_on_growth && doc.size_diff > 0 &&
                 static_cast<std::uint64_t>(doc.size_diff) > *fail_on_growth;
    return doc;
}

LeaksDoc build_leaks(const TraceSummary& trace, const ReplayResult& r, StackSymbols& symbols,
                     const TableOptions& options, std::optional<std::uint64_t> fail_on_growth,
                     SourceLines& sources) {
    LeaksDoc doc;
    doc.trace = trace;
    doc.by = options.by;
    doc.top = options.top;
    const GroupedSnapshot end = group(r.points.at(0), options.by, &symbols, options.filters);
    doc.leaked_bytes = end.bytes;
    doc.leaked_count = end.count;
    std::vector<DiffRow> live = leaks_at_end(end);
    std::erase_if(live, [&](const DiffRow& d) { return d.size < options.min_growth; });
    doc.leak_groups = live.size();
    if (options.top > 0 && live.size() > options.top) live.resize(options.top);
    doc.at_end = rows_of(live, options.by, sources);

    std::vector<GroupedSnapshot> series;
    series.reserve(r.growth.size());
    for (const Snapshot& s : r.growth) series.push_back(group(s, options.by, &symbols, options.filters));
    doc.growth_by_markers = r.growth_by_markers;
    doc.growth_snapshots = series.size();
    std::vector<GrowthLeak> growth = growth_leaks(series);
    std::erase_if(growth, [&](const GrowthLeak& g) { return g.max_bytes - g.first_bytes < options.min_growth; });
    doc.growth_groups = growth.size();
    for (const GrowthLeak& g : growth) doc.growing_bytes += g.max_bytes - g.first_bytes;
    if (options.top > 0 && growth.size() > options.top) growth.resize(options.top);
    for (const GrowthLeak& g : growth) {
        GrowthRow row;
        row.row = make_row(g.key, g.entry, options.by, sources);
        row.rising = g.rising;
        row.intervals = g.intervals;
        row.first_bytes = g.first_bytes;
        row.max_bytes = g.max_bytes;
        row.last_bytes = g.last_bytes;
        row.bytes_per_second = g.bytes_per_second;
        doc.growth.push_back(std::move(row));
    }
    doc.fail_on_growth = fail_on_growth;
    doc.checked_bytes = std::max(doc.leaked_bytes, doc.growing_bytes);
    doc.failed = fail_on_growth && doc.checked_bytes > *fail_on_growth;
    return doc;
}

}  // namespace heapwise::analyzer
