// Grouping for the live detector, with the keys of the analyzer's group() (analyzer/replay/
// grouping.cpp: lineno "file:line", function, file, module, traceback; a site without the
// attribute keyed by its text) but interned: each stack's key is computed once per detector and
// grouping key, and a snapshot is grouped by pointer, so grouping 100 000 stacks allocates once
// per group, not once per stack. Rows are ordered exactly as analyzer::compare orders them (the
// e2e tests compare live rows with the offline analyzer's, row for row).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/grouping.hpp"
#include "heapwise/leak_detector.hpp"
#include "tracer_link.hpp"

namespace heapwise::api {

struct KeyInfo {
    std::string key;
    analyzer::SiteFrame site;              // of the first stack met with this key
    std::vector<std::string> traceback;    // By::traceback only
};

struct LiveGroup {
    std::uint64_t bytes = 0;
    std::uint64_t count = 0;
};

struct LiveGrouped {
    By by = By::lineno;
    bool estimated = false;
    std::unordered_map<const KeyInfo*, LiveGroup> groups;
};

// Per-stack keys for one detector. Not thread-safe (the detector's mutex guards it).
class KeyCache {
public:
    explicit KeyCache(analyzer::StackSymbols& symbols) : symbols_(symbols) {}
    // The sites' groups, leaving out stacks whose site fails the filters. Every stack of sites
    // must be defined in the symbols' trace already.
    LiveGrouped group(const std::vector<LiveSite>& sites, By by, bool estimated,
                      const analyzer::GroupFilters& filters);

private:
    struct StackInfo {
        const analyzer::SiteFrame* site = nullptr;
        std::array<const KeyInfo*, 5> keys{};
    };
    StackInfo& info(std::uint32_t stack);
    const KeyInfo* key(std::uint32_t stack, StackInfo& info, By by);

    analyzer::StackSymbols& symbols_;
    std::vector<StackInfo> dense_;  // by stack id
    std::unordered_map<std::uint32_t, StackInfo> sparse_;  // ids far beyond the dense range
    std::array<std::unordered_map<std::string, std::unique_ptr<KeyInfo>>, 5> interned_;
};

// analyzer::compare's rows (older == nullptr: statistics), as StatisticDiff.
std::vector<StatisticDiff> compare_live(const LiveGrouped* older, const LiveGrouped& newer);

}  // namespace heapwise::api
