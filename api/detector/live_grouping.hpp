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
#include "analyzer/stack_table.hpp"
#include "analyzer/symbols/fold.hpp"
#include "analyzer/symbols/symbolizer.hpp"
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

// Per-stack keys for one detector. Not thread-safe (the detector's mutex guards it). Sites are
// found with the analyzer's Symbolizer and FrameFolder like StackSymbols finds them, but only
// the site frame is built unless the key is the whole traceback: a first grouping of 100 000
// stacks by line then costs one frame per stack, not one per frame of each.
class KeyCache {
public:
    // stacks and modules must outlive the cache; they may grow meanwhile.
    KeyCache(const analyzer::StackTable& stacks, const analyzer::ModuleMap& modules)
        : stacks_(stacks), symbolizer_(modules) {}
    // The sites' groups, leaving out stacks whose site fails the filters. Every stack of sites
    // must be defined in the symbols' trace already.
    LiveGrouped group(const std::vector<LiveSite>& sites, By by, bool estimated,
                      const analyzer::GroupFilters& filters);

private:
    struct StackInfo {
        std::unique_ptr<analyzer::SiteFrame> site;  // null until first needed
        std::array<const KeyInfo*, 5> keys{};
    };
    StackInfo& info(std::uint32_t stack);
    const KeyInfo* key(std::uint32_t stack, StackInfo& info, By by);
    // The stack's logical frames from its site outwards (all of them, or the site alone).
    std::vector<analyzer::SiteFrame> frames(std::uint32_t stack, bool whole);

    const analyzer::StackTable& stacks_;
    analyzer::Symbolizer symbolizer_;
    analyzer::FrameFolder folder_;
    std::vector<StackInfo> dense_;  // by stack id
    std::unordered_map<std::uint32_t, StackInfo> sparse_;  // ids far beyond the dense range
    std::array<std::unordered_map<std::string, std::unique_ptr<KeyInfo>>, 5> interned_;
};

// analyzer::compare's rows (older == nullptr: statistics), as StatisticDiff.
std::vector<StatisticDiff> compare_live(const LiveGrouped* older, const LiveGrouped& newer);

}  // namespace heapwise::api
