// Leak and report data over grouped snapshots: what is live at the end (largest first), sites
// whose live bytes rose in most intervals of the run (growth leaks, with a rate), and the
// figures of a whole-run report (peak, temporaries, top sites by peak, leaked bytes and number
// of allocations). docs/analysis.md defines each figure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/replay/grouping.hpp"

namespace heapwise::analyzer {

// Groups live at the end, largest first (by bytes, then count, then key), with their counts.
std::vector<DiffRow> leaks_at_end(const GroupedSnapshot& end, std::size_t top = 0);

struct GrowthLeak {
    std::string key;
    GroupEntry entry;               // as in the last snapshot of the series
    std::size_t rising = 0;         // intervals in which the live bytes rose
    std::size_t intervals = 0;
    std::uint64_t first_bytes = 0;  // live bytes at the first snapshot of the series
    std::uint64_t max_bytes = 0;
    std::uint64_t last_bytes = 0;
    double bytes_per_second = 0;    // (max - first) / (time of the max - time of the first)
};

struct GrowthOptions {
    // A site is a growth leak when it rose in more than this fraction of the intervals and in at
    // least min_rising of them: a one-time allocation rises once and then stays flat.
    double min_fraction = 0.5;
    std::size_t min_rising = 2;
};

// series: snapshots in time order, all grouped by the same key (ReplayResult::growth grouped).
// Sorted by growth rate, then max bytes, descending, then key.
std::vector<GrowthLeak> growth_leaks(const std::vector<GroupedSnapshot>& series,
                                     const GrowthOptions& options = {});

struct SiteRow {
    std::string key;
    GroupEntry entry;
};

struct ReportData {
    ReplayFacts facts;
    std::vector<DiffRow> top_by_peak;     // live at the peak, largest first
    std::vector<DiffRow> top_by_leaked;   // live at the end, largest first
    std::vector<SiteRow> top_by_allocs;   // most allocations over the run, then most bytes live
};

// peak and end: the grouped snapshots at "peak" and "end" of the same trace.
ReportData report_data(const ReplayFacts& facts, const GroupedSnapshot& peak,
                       const GroupedSnapshot& end, std::size_t top);

}  // namespace heapwise::analyzer
