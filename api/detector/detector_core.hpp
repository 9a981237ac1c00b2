// The state one LeakDetector shares with its snapshots and watches: identity (which detector,
// which process), the stacks met so far with their frames, the module map, each stack's site and
// grouping keys (KeyCache: the analyzer's symbolizer and frame folder, each stack symbolized
// once), source lines read for reports. One mutex guards it, since snapshots may be compared from
// any thread. Every public entry point runs inside an InternalScope so its allocations stay out
// of the results.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/grouping.hpp"
#include "heapwise/leak_detector.hpp"
#include "live_grouping.hpp"
#include "process_modules.hpp"
#include "tracer_link.hpp"

namespace heapwise::api {

class DetectorCore;

// What a Snapshot holds: the tracer's figures per stack, and groupings already computed for it
// (a base snapshot compared again and again is grouped once).
struct SnapshotData {
    std::shared_ptr<DetectorCore> core;
    std::uint64_t detector = 0;  // DetectorCore::id()
    std::string label;
    LiveCopy live;

    struct Grouping {
        By by;
        std::string filters;  // canonical text of the filters
        std::shared_ptr<const LiveGrouped> grouped;
    };
    mutable std::mutex mu;
    mutable std::vector<Grouping> groupings;  // a few, most recent last
};

class DetectorCore : public std::enable_shared_from_this<DetectorCore> {
public:
    // Enables the tracer's live view; throws DetectorError.
    DetectorCore();
    ~DetectorCore();

    std::uint64_t id() const noexcept { return id_; }
    std::uint32_t pid() const noexcept { return pid_; }
    bool started_late() const noexcept { return started_late_.load(); }

    // A snapshot labelled label (a generated one when empty). Throws DetectorError.
    std::shared_ptr<const SnapshotData> snapshot(std::string_view label);

    // Rows of newer against older (nullptr: against nothing, i.e. statistics). Both must be this
    // detector's snapshots of this process (checked by the caller).
    std::vector<StatisticDiff> compare(const SnapshotData* older, const SnapshotData& newer, By by,
                                       const Filters& filters, std::size_t top,
                                       std::uint64_t min_growth);

    // The text of line `line` of file (trimmed), or "" when unreadable. Cached per file.
    std::string source_line(const std::string& file, std::uint32_t line);

private:
    std::shared_ptr<const LiveGrouped> grouped(const SnapshotData& snap, By by,
                                               const analyzer::GroupFilters& filters,
                                               const std::string& filters_key);
    void learn_stacks(const LiveCopy& live);  // mu_ held

    const std::uint64_t id_;
    const std::uint32_t pid_;
    std::atomic<bool> started_late_{false};
    std::atomic<std::uint64_t> next_label_{1};

    std::mutex mu_;
    std::unique_ptr<analyzer::ReplayResult> trace_;  // stacks and modules (must not move)
    std::unique_ptr<ProcessModules> modules_;
    std::unique_ptr<KeyCache> keys_;
    std::unordered_map<std::string, std::vector<std::string>> sources_;
};

// "detector D has no such snapshot" and the like, checked before any comparison.
void check_same_detector(const SnapshotData& a, const SnapshotData& b);
void check_this_process(const SnapshotData& a);

analyzer::GroupBy to_group_by(By by);
// Parses filters ("file:GLOB", ...) into the analyzer's form; DetectorError(bad_argument).
analyzer::GroupFilters parse_filters(const Filters& filters, std::string* key);

}  // namespace heapwise::api
