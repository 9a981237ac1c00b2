// JSON documents. Field names follow docs/report-json.md; sizes are bytes, times nanoseconds
// since the trace's start, rates bytes per second.
#include "analyzer/report/render_json.hpp"

namespace heapwise::analyzer {
namespace {

using nlohmann::json;

json header(std::string_view command) {
    return json{{"schema", "heapwise-report"}, {"version", kReportJsonVersion}, {"command", command}};
}

json trace_json(const TraceSummary& t) {
    json j;
    j["path"] = t.path;
    j["file_size"] = t.file_size;
    j["pid"] = t.pid ? json(*t.pid) : json(nullptr);
    j["exe"] = t.exe;
    j["mode"] = t.mode;
    j["estimated"] = t.estimated;
    j["sample_interval"] = t.sample_interval;
    j["lost"] = {{"events", t.lost_allocs + t.lost_frees}, {"allocs", t.lost_allocs},
                 {"frees", t.lost_frees}, {"bytes", t.lost_bytes}};
    j["damage"] = {{"count", t.damaged},
                   {"first_offset", t.damaged ? json(t.damage_offset) : json(nullptr)},
                   {"first_message", t.damaged ? json(t.damage_message) : json(nullptr)}};
    j["duration_ns"] = t.duration_ns;
    return j;
}

json row_json(const Row& r) {
    json j;
    j["key"] = r.key;
    j["site"] = {{"function", r.function}, {"file", r.file}, {"line", r.line}, {"module", r.module}};
    j["traceback"] = r.traceback;
    j["size"] = r.size;
    j["size_diff"] = r.size_diff;
    j["count"] = r.count;
    j["count_diff"] = r.count_diff;
    j["allocs"] = r.allocs;
    j["temporary"] = r.temporary;
    j["source"] = r.source ? json(*r.source) : json(nullptr);
    return j;
}

json rows_json(const std::vector<Row>& rows) {
    json a = json::array();
    for (const Row& r : rows) a.push_back(row_json(r));
    return a;
}

json rss_json(const std::optional<RssSample>& s) {
    if (!s) return nullptr;
    return {{"time_ns", s->time_ns}, {"rss_bytes", s->rss_bytes}, {"heap_bytes", s->heap_bytes}};
}

json point_json(const PointSummary& p) {
    return {{"point", p.text}, {"time_ns", p.time_ns}, {"bytes", p.bytes}, {"count", p.count}};
}

json threshold_json(const std::optional<std::uint64_t>& limit, std::uint64_t checked, bool failed) {
    if (!limit) return nullptr;
    return {{"limit", *limit}, {"checked_bytes", checked}, {"exceeded", failed}};
}

}  // namespace

json to_json(const ReportDoc& d) {
    json j = header("report");
    j["trace"] = trace_json(d.trace);
    j["by"] = to_string(d.by);
    j["top"] = d.top;
    j["allocations"] = {{"count", d.allocations}, {"temporary", d.temporary}, {"bytes", d.bytes_allocated}};
    j["frees"] = d.frees;
    j["peak"] = {{"bytes", d.peak_bytes}, {"count", d.peak_count}, {"time_ns", d.peak_time_ns},
                 {"rss", rss_json(d.rss_at_peak)}};
    j["end"] = {{"bytes", d.end_bytes}, {"count", d.end_count}};
    j["rss"] = {{"samples", d.rss_samples}, {"max", rss_json(d.max_rss)}};
    j["markers"] = d.markers;
    j["top_by_peak"] = rows_json(d.by_peak);
    j["top_by_leaked"] = rows_json(d.by_leaked);
    j["top_by_allocs"] = rows_json(d.by_allocs);
    return j;
}

json to_json(const DiffDoc& d) {
    json j = header("diff");
    j["old_trace"] = trace_json(d.older);
    j["new_trace"] = trace_json(d.newer);
    j["two_traces"] = d.two_traces;
    j["by"] = to_string(d.by);
    j["top"] = d.top;
    j["min_growth"] = d.min_growth;
    j["from"] = point_json(d.from);
    j["to"] = point_json(d.to);
    j["size_diff"] = d.size_diff;
    j["count_diff"] = d.count_diff;
    j["rows"] = rows_json(d.rows);
    const std::uint64_t growth = d.size_diff > 0 ? static_cast<std::uint64_t>(d.size_diff) : 0;
    j["fail_on_growth"] = threshold_json(d.fail_on_growth, growth, d.failed);
    return j;
}

json to_json(const LeaksDoc& d) {
    json j = header("leaks");
    j["trace"] = trace_json(d.trace);
    j["by"] = to_string(d.by);
    j["top"] = d.top;
    j["at_end"] = {{"bytes", d.leaked_bytes}, {"count", d.leaked_count}, {"groups", d.leak_groups},
                   {"rows", rows_json(d.at_end)}};
    json growth = json::array();
    for (const GrowthRow& g : d.growth) {
        json r = row_json(g.row);
        r["rising"] = g.rising;
        r["intervals"] = g.intervals;
        r["first_bytes"] = g.first_bytes;
        r["max_bytes"] = g.max_bytes;
        r["last_bytes"] = g.last_bytes;
        r["bytes_per_second"] = g.bytes_per_second;
        growth.push_back(std::move(r));
    }
    j["growth"] = {{"series", d.growth_by_markers ? "markers" : "time_slices"},
                   {"snapshots", d.growth_snapshots}, {"bytes", d.growing_bytes},
                   {"groups", d.growth_groups}, {"rows", std::move(growth)}};
    j["fail_on_growth"] = threshold_json(d.fail_on_growth, d.checked_bytes, d.failed);
    return j;
}

}  // namespace heapwise::analyzer
