// Text reports. Every figure comes from the document; this file only lays them out.
#include "analyzer/report/render_text.hpp"

#include <fmt/format.h>

#include "analyzer/report/units.hpp"

namespace heapwise::analyzer {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kReset = "\x1b[0m";

class Out {
public:
    explicit Out(const TextStyle& style) : style_(style) {}
    void field(std::string_view label, const std::string& value) {
        text_ += fmt::format("{:<14}{}\n", label, value);
    }
    void title(const std::string& t) {
        text_ += "\n";
        text_ += paint(kBold, t + ":");
        text_ += "\n";
    }
    void line(const std::string& l) { text_ += l + "\n"; }
    std::string paint(const char* code, const std::string& s) const {
        return style_.color ? code + s + kReset : s;
    }
    std::string signed_paint(std::int64_t v, const std::string& s) const {
        if (v > 0) return paint(kRed, s);
        if (v < 0) return paint(kGreen, s);
        return s;
    }
    std::string take() { return std::move(text_); }

private:
    const TextStyle& style_;
    std::string text_;
};

std::string average(const Row& r) {
    if (r.count == 0) return "";
    return ", average=" + format_size(static_cast<double>(r.size) / static_cast<double>(r.count));
}

// The row's key as a heading: the traceback's site frame, or the key itself.
std::string heading(const Row& r) {
    return r.traceback.empty() ? r.key : r.traceback.front();
}

// What goes under a row: the source line (lineno) or the outer frames (traceback).
void details(Out& out, const Row& r) {
    if (r.source) out.line("    " + *r.source);
    for (std::size_t i = 1; i < r.traceback.size(); ++i) out.line("    " + r.traceback[i]);
}

// "key: size=X, count=N, average=A" (a snapshot's statistics).
void stat_row(Out& out, const Row& r) {
    out.line(fmt::format("{}: size={}, count={}{}", heading(r), format_size(r.size), r.count, average(r)));
    details(out, r);
}

// "key: size=X (+D), count=N (+C), average=A" (a comparison).
void diff_row(Out& out, const Row& r) {
    out.line(fmt::format("{}: size={} ({}), count={} ({}){}", heading(r), format_size(r.size),
                         out.signed_paint(r.size_diff, format_size_diff(r.size_diff)), r.count,
                         format_signed(r.count_diff), average(r)));
    details(out, r);
}

std::string blocks(std::uint64_t n) {
    return group_digits(n) + (n == 1 ? " block" : " blocks");
}

std::string sites(std::uint64_t n) {
    return group_digits(n) + (n == 1 ? " site" : " sites");
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? "0.0%" : fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

void trace_fields(Out& out, const TraceSummary& t, std::string_view label = "trace") {
    std::string who = t.path;
    if (t.pid) who += fmt::format(" (pid {}, {})", *t.pid, t.exe);
    out.field(label, who);
    std::string mode = t.mode;
    if (t.estimated) {
        mode += fmt::format(", one sample per {} on average: byte and count figures are estimates",
                            format_size(t.sample_interval));
    }
    out.field("mode", mode);
    if (t.lost_allocs + t.lost_frees > 0) {
        out.field("dropped", fmt::format("{} events ({} allocations, {} frees, {}) not in the figures",
                                         group_digits(t.lost_allocs + t.lost_frees),
                                         group_digits(t.lost_allocs), group_digits(t.lost_frees),
                                         format_size(t.lost_bytes)));
    }
    if (t.damaged > 0) {
        out.field("damaged", fmt::format("{} skipped, the first at byte {}: figures are from the "
                                         "readable blocks only",
                                         t.damaged == 1 ? std::string("1 place") : group_digits(t.damaged) + " places",
                                         t.damage_offset));
    }
}

std::string table_title(std::string_view what, std::size_t top, GroupBy by) {
    return top > 0 ? fmt::format("Top {} {} (by {})", top, what, to_string(by))
                   : fmt::format("{} (by {})", what, to_string(by));
}

}  // namespace

std::string render_text(const ReportDoc& d, const TextStyle& style) {
    Out out(style);
    trace_fields(out, d.trace);
    out.field("duration", format_seconds(d.trace.duration_ns));
    out.field("allocations", fmt::format("{} ({} temporary, {}), {} allocated in total",
                                         group_digits(d.allocations), group_digits(d.temporary),
                                         percent(d.temporary, d.allocations),
                                         format_size(d.bytes_allocated)));
    out.field("frees", group_digits(d.frees));
    std::string peak = fmt::format("{} in {} at {}", format_size(d.peak_bytes),
                                   blocks(d.peak_count), format_seconds(d.peak_time_ns));
    if (d.rss_at_peak) {
        peak += fmt::format("; RSS {} (sampled at {})", format_size(d.rss_at_peak->rss_bytes),
                            format_seconds(d.rss_at_peak->time_ns));
    }
    out.field("peak heap", peak);
    if (d.max_rss) {
        out.field("peak RSS", fmt::format("{} at {}; heap {} then ({} samples)",
                                          format_size(d.max_rss->rss_bytes),
                                          format_seconds(d.max_rss->time_ns),
                                          format_size(d.max_rss->heap_bytes), group_digits(d.rss_samples)));
    } else {
        out.field("peak RSS", "not sampled");
    }
    out.field("leaked", fmt::format("{} in {} (live at end)", format_size(d.end_bytes),
                                    blocks(d.end_count)));
    out.field("markers", group_digits(d.markers));

    out.title(table_title("sites by peak heap", d.top, d.by));
    if (d.by_peak.empty()) out.line("(none)");
    for (const Row& r : d.by_peak) stat_row(out, r);
    out.title(table_title("sites by leaked bytes", d.top, d.by));
    if (d.by_leaked.empty()) out.line("(none)");
    for (const Row& r : d.by_leaked) stat_row(out, r);
    out.title(table_title("sites by number of allocations", d.top, d.by));
    if (d.by_allocs.empty()) out.line("(none)");
    for (const Row& r : d.by_allocs) {
        out.line(fmt::format("{}: allocations={} ({} temporary), size={} live at end, count={}",
                             heading(r), r.allocs, r.temporary, format_size(r.size), r.count));
        details(out, r);
    }
    return out.take();
}

std::string render_text(const DiffDoc& d, const TextStyle& style) {
    Out out(style);
    if (d.two_traces) {
        trace_fields(out, d.older, "old trace");
        trace_fields(out, d.newer, "new trace");
    } else {
        trace_fields(out, d.older);
    }
    out.field("from", fmt::format("{} ({})", d.from.text, format_seconds(d.from.time_ns)));
    out.field("to", fmt::format("{} ({})", d.to.text, format_seconds(d.to.time_ns)));
    out.field("total", fmt::format("size={} ({}), count={} ({})", format_size(d.to.bytes),
                                   out.signed_paint(d.size_diff, format_size_diff(d.size_diff)),
                                   d.to.count, format_signed(d.count_diff)));
    if (d.fail_on_growth) {
        out.field("growth check", fmt::format("{} growth {} the limit of {}",
                                              format_size_diff(d.size_diff),
                                              d.failed ? "exceeds" : "is within",
                                              format_size(*d.fail_on_growth)));
    }
    std::string what = "changes";
    if (d.min_growth > 0) what += fmt::format(", growth of at least {}", format_size(d.min_growth));
    out.title(table_title(what, d.top, d.by));
    if (d.rows.empty()) out.line("(none)");
    for (const Row& r : d.rows) diff_row(out, r);
    return out.take();
}

std::string render_text(const LeaksDoc& d, const TextStyle& style) {
    Out out(style);
    trace_fields(out, d.trace);
    out.field("duration", format_seconds(d.trace.duration_ns));
    out.field("leaked", fmt::format("{} in {} from {} (live at end)", format_size(d.leaked_bytes),
                                    blocks(d.leaked_count), sites(d.leak_groups)));
    const std::string series =
        d.growth_by_markers
            ? fmt::format("{} snapshots: start, each marker, end", d.growth_snapshots)
            : fmt::format("{} snapshots: {} equal time slices (the trace has no markers)",
                          d.growth_snapshots, d.growth_snapshots > 0 ? d.growth_snapshots - 1 : 0);
    out.field("growth", fmt::format("{} kept growing, by {} in all; series of {}",
                                    sites(d.growth_groups), format_size(d.growing_bytes), series));
    if (d.fail_on_growth) {
        out.field("growth check", fmt::format("{} leaked or growing {} the limit of {}",
                                              format_size(d.checked_bytes),
                                              d.failed ? "exceeds" : "is within",
                                              format_size(*d.fail_on_growth)));
    }
    out.title(table_title("live at end, largest first", d.top, d.by));
    if (d.at_end.empty()) out.line("(none)");
    for (const Row& r : d.at_end) stat_row(out, r);
    out.title(table_title("growth leaks, fastest first", d.top, d.by));
    if (d.growth.empty()) out.line("(none)");
    for (const GrowthRow& g : d.growth) {
        out.line(fmt::format("{}: rose in {} of {} intervals, {} -> {} (max {}), {}", heading(g.row),
                             g.rising, g.intervals, format_size(g.first_bytes),
                             format_size(g.last_bytes), format_size(g.max_bytes),
                             out.paint(kRed, format_rate(g.bytes_per_second))));
        details(out, g.row);
    }
    return out.take();
}

}  // namespace heapwise::analyzer
