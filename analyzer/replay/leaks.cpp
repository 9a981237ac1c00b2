// Leaks at exit, growth leaks and report figures, all from grouped snapshots, so they work the
// same for any grouping key (and for raw stacks when there are no symbols).
#include "analyzer/replay/leaks.hpp"

#include <algorithm>
#include <stdexcept>

namespace heapwise::analyzer {

std::vector<DiffRow> leaks_at_end(const GroupedSnapshot& end, std::size_t top) {
    std::vector<DiffRow> rows = statistics(end);
    std::erase_if(rows, [](const DiffRow& r) { return r.size == 0 && r.count == 0; });
    // statistics sorts by |size_diff| == size; count breaks ties as the report wants.
    std::stable_sort(rows.begin(), rows.end(), [](const DiffRow& a, const DiffRow& b) {
        if (a.size != b.size) return a.size > b.size;
        if (a.count != b.count) return a.count > b.count;
        return a.key < b.key;
    });
    if (top > 0 && rows.size() > top) rows.resize(top);
    return rows;
}

std::vector<GrowthLeak> growth_leaks(const std::vector<GroupedSnapshot>& series,
                                     const GrowthOptions& options) {
    std::vector<GrowthLeak> out;
    if (series.size() < 2) return out;
    for (const GroupedSnapshot& s : series) {
        if (s.by != series.front().by) {
            throw std::invalid_argument("growth series mixes grouping keys");
        }
    }
    const std::size_t intervals = series.size() - 1;
    std::vector<std::string> keys;
    for (const GroupedSnapshot& s : series) {
        for (const auto& [key, entry] : s.groups) keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const std::string& key : keys) {
        auto bytes_at = [&](std::size_t i) {
            const auto it = series[i].groups.find(key);
            return it == series[i].groups.end() ? std::uint64_t{0} : it->second.bytes;
        };
        GrowthLeak g;
        g.key = key;
        g.intervals = intervals;
        g.first_bytes = bytes_at(0);
        g.max_bytes = g.first_bytes;
        std::size_t max_at = 0;
        std::uint64_t prev = g.first_bytes;
        for (std::size_t i = 1; i < series.size(); ++i) {
            const std::uint64_t b = bytes_at(i);
            if (b > prev) ++g.rising;
            if (b > g.max_bytes) {
                g.max_bytes = b;
                max_at = i;
            }
            prev = b;
        }
        g.last_bytes = prev;
        if (g.rising < options.min_rising ||
            static_cast<double>(g.rising) <= options.min_fraction * static_cast<double>(intervals)) {
            continue;
        }
        const std::uint64_t dt = series[max_at].time_ns - series[0].time_ns;
        g.bytes_per_second =
            dt == 0 ? 0.0 : static_cast<double>(g.max_bytes - g.first_bytes) * 1e9 / static_cast<double>(dt);
        for (auto it = series.rbegin(); it != series.rend(); ++it) {
            const auto found = it->groups.find(key);
            if (found != it->groups.end()) {
                g.entry = found->second;
                break;
            }
        }
        out.push_back(std::move(g));
    }
    std::sort(out.begin(), out.end(), [](const GrowthLeak& a, const GrowthLeak& b) {
        if (a.bytes_per_second != b.bytes_per_second) return a.bytes_per_second > b.bytes_per_second;
        if (a.max_bytes != b.max_bytes) return a.max_bytes > b.max_bytes;
        return a.key < b.key;
    });
    return out;
}

ReportData report_data(const ReplayFacts& facts, const GroupedSnapshot& peak,
                       const GroupedSnapshot& end, std::size_t top) {
    ReportData r;
    r.facts = facts;
    r.top_by_peak = leaks_at_end(peak, top);  // "live at a point, largest first" either way
    r.top_by_leaked = leaks_at_end(end, top);
    for (const auto& [key, entry] : end.groups) {
        if (entry.allocs > 0) r.top_by_allocs.push_back({key, entry});
    }
    std::sort(r.top_by_allocs.begin(), r.top_by_allocs.end(), [](const SiteRow& a, const SiteRow& b) {
        if (a.entry.allocs != b.entry.allocs) return a.entry.allocs > b.entry.allocs;
        if (a.entry.bytes != b.entry.bytes) return a.entry.bytes > b.entry.bytes;
        return a.key < b.key;
    });
    if (top > 0 && r.top_by_allocs.size() > top) r.top_by_allocs.resize(top);
    return r;
}

}  // namespace heapwise::analyzer
