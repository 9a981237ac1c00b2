// LeakDetector::report: a fresh snapshot against the baseline (or options.since), growing rows
// only, each with its site, the code line read from the source file when it is on disk, growth
// and block count delta. One header line says what was compared and how far to trust it.
#include <cstdio>
#include <sstream>

#include "detector_core.hpp"
#include "heapwise/leak_detector.hpp"
#include "tracer_link.hpp"

namespace heapwise {

namespace {

std::string seconds(std::uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
    return buf;
}

std::string signed_count(std::int64_t v) { return (v >= 0 ? "+" : "") + std::to_string(v); }

}  // namespace

std::string LeakDetector::report(const ReportOptions& options) {
    api::InternalScope internal;
    const Snapshot& base = options.since != nullptr ? *options.since : baseline_;
    const Snapshot now = take_snapshot();
    const Differences all = now.compare_to(base, options.by, options.filters);

    std::vector<const StatisticDiff*> rows;
    for (const StatisticDiff& r : all) {
        if (r.size_diff <= 0) continue;
        if (options.min_growth > 0 && static_cast<std::uint64_t>(r.size_diff) < options.min_growth) continue;
        if (options.top > 0 && rows.size() == options.top) break;
        rows.push_back(&r);
    }

    std::ostringstream out;
    const auto growth = static_cast<std::int64_t>(now.live_bytes() - base.live_bytes());
    const auto blocks = static_cast<std::int64_t>(now.live_count() - base.live_count());
    out << "heapwise leak report: " << format_size(static_cast<double>(growth), true) << " in "
        << signed_count(blocks) << " blocks since '" << base.label() << "' ("
        << seconds(now.time_ns() - base.time_ns()) << " ago); " << rows.size()
        << (rows.size() == 1 ? " site" : " sites") << " grew";
    if (options.min_growth > 0) {
        out << " by at least " << format_size(static_cast<double>(options.min_growth), false);
    }
    out << " (by " << to_string(options.by) << ")\n";
    if (now.estimated()) {
        out << "  estimates: the tracer samples about every " << now.sample_interval()
            << " bytes; figures are scaled\n";
    }
    if (now.lost_events() > 0) {
        out << "  incomplete: the tracer dropped " << now.lost_events() << " events so far\n";
    }
    if (started_late()) {
        out << "  live view began late: blocks allocated before it are not counted\n";
    }
    std::size_t n = 0;
    for (const StatisticDiff* r : rows) {
        out << "  #" << ++n << " " << r->key;
        if (!r->site.function.empty() && options.by != By::function) out << " in " << r->site.function;
        out << ": " << format_size(static_cast<double>(r->size_diff), true) << " (size "
            << format_size(static_cast<double>(r->size), false) << "), "
            << signed_count(r->count_diff) << " blocks (count " << r->count << ")\n";
        if (options.source_lines) {
            const std::string code = core_->source_line(r->site.file, r->site.line);
            if (!code.empty()) out << "       " << code << "\n";
        }
        if (options.by == By::traceback) {
            for (std::size_t i = 1; i < r->traceback.size(); ++i) out << "       " << r->traceback[i] << "\n";
        }
    }
    return out.str();
}

}  // namespace heapwise
