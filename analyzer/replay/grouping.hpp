// Snapshots grouped like tracemalloc's Snapshot.statistics / compare_to: by the allocation
// site's line, function, file or module, by the whole folded traceback, or by raw stack id. A
// site is the first frame, from the leaf, that the FrameFolder does not fold (malloc, operator
// new, std::allocator... are skipped). Each trace symbolizes its own stacks, so snapshots of two
// traces (two builds of a program) group into keys that compare across them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/replay.hpp"
#include "analyzer/symbols/fold.hpp"
#include "analyzer/symbols/symbolizer.hpp"

namespace heapwise::analyzer {

// One logical frame as reports show it.
struct SiteFrame {
    std::string function;  // demangled; empty when unknown
    std::string file;      // empty when unknown
    std::uint32_t line = 0;
    std::string module;    // module file name; empty outside any module
    std::string text;      // "f at a.c:12:3", "libfoo.so+0x1a2b", "0x7f00...": never empty
};

// Symbolizes and folds the stacks of one ReplayResult, each stack once. The result must outlive
// this object and not move (the symbolizer reads its module map).
class StackSymbols {
public:
    explicit StackSymbols(const ReplayResult& trace, SymbolizerOptions options = {},
                          FrameFolder folder = {});
    // The stack's logical frames from its site outwards (never empty: an unknown stack is one
    // frame "stack#N").
    const std::vector<SiteFrame>& folded(StackId stack);
    // folded(stack).front() without the rest: symbolizes from the leaf only as far as the site
    // (deep stacks of interpreters are mostly frames no grouping but traceback needs).
    const SiteFrame& site(StackId stack);
    const std::vector<SymbolWarning>& warnings() const noexcept { return symbolizer_.warnings(); }

private:
    MapGeneration generation(StackId stack) const;
    SiteFrame unknown(StackId stack) const;

    const ReplayResult& trace_;
    Symbolizer symbolizer_;
    FrameFolder folder_;
    std::unordered_map<StackId, std::vector<SiteFrame>> cache_;
    std::unordered_map<StackId, SiteFrame> sites_;
};

struct GroupEntry {
    SiteFrame site;                // the group's site frame (for kLineno: file and line to show)
    std::vector<std::string> traceback;  // kTraceback: the folded frames' texts, site first
    std::uint64_t bytes = 0;       // live bytes
    std::uint64_t count = 0;       // live blocks
    std::uint64_t allocs = 0;      // allocations so far
    std::uint64_t temporary = 0;
};

struct GroupedSnapshot {
    GroupBy by = GroupBy::kStack;
    std::string point;
    std::uint64_t time_ns = 0;
    bool estimated = false;
    std::uint64_t bytes = 0;       // over the groups kept by the filters
    std::uint64_t count = 0;
    std::unordered_map<std::string, GroupEntry> groups;  // by key text
};

struct GroupFilters {
    std::vector<SiteFilter> include;  // when not empty, a site must match one of them
    std::vector<SiteFilter> exclude;  // a site matching any of them is left out
};

bool site_matches(const SiteFilter& filter, const SiteFrame& site);

// symbols may be null for GroupBy::kStack only (keys "stack#N"); throws std::invalid_argument
// otherwise. Stacks with no live block and no allocation are not listed.
GroupedSnapshot group(const Snapshot& snapshot, GroupBy by, StackSymbols* symbols,
                      const GroupFilters& filters = {});

struct DiffRow {
    std::string key;
    GroupEntry entry;            // the newer snapshot's (or the older's if gone from the newer)
    std::uint64_t size = 0;      // live bytes in the newer snapshot
    std::int64_t size_diff = 0;  // newer - older
    std::uint64_t count = 0;
    std::int64_t count_diff = 0;
};

struct DiffOptions {
    std::size_t top = 0;             // 0: every row
    std::uint64_t min_growth = 0;    // when > 0: only rows with size_diff >= min_growth
};

// tracemalloc's compare_to: one row per key of either snapshot, sorted by |size_diff|, then
// size, then |count_diff|, descending, then key ascending; rows with nothing live and no change
// are dropped. Both must be grouped by the same key (std::invalid_argument otherwise).
std::vector<DiffRow> compare(const GroupedSnapshot& older, const GroupedSnapshot& newer,
                             const DiffOptions& options = {});
// tracemalloc's statistics: the snapshot against nothing, so size_diff == size.
std::vector<DiffRow> statistics(const GroupedSnapshot& snapshot, const DiffOptions& options = {});

}  // namespace heapwise::analyzer
