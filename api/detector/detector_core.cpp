// DetectorCore: stacks learnt from the tracer as snapshots name them, symbolized through the
// analyzer's Symbolizer and FrameFolder (folding allocator frames) against this process's module map, then
// grouped and compared with the analyzer's keys and row order (live_grouping.hpp), as `heapwise
// diff` does offline. Grouped snapshots are cached on the snapshot, so a base is grouped once.
#include "detector_core.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "analyzer/replay/specs.hpp"

namespace heapwise::api {
namespace {

std::atomic<std::uint64_t> g_next_detector{1};

[[noreturn]] void bad(DetectorError::Code code, const std::string& what) {
    throw DetectorError(code, "heapwise::LeakDetector: " + what);
}

constexpr std::size_t kGroupingsKept = 4;
constexpr std::uintmax_t kMaxSourceFile = 32u << 20;

}  // namespace

analyzer::GroupBy to_group_by(By by) {
    switch (by) {
        case By::lineno: return analyzer::GroupBy::kLineno;
        case By::function: return analyzer::GroupBy::kFunction;
        case By::file: return analyzer::GroupBy::kFile;
        case By::module: return analyzer::GroupBy::kModule;
        case By::traceback: return analyzer::GroupBy::kTraceback;
    }
    bad(DetectorError::Code::bad_argument, "unknown grouping key " +
                                               std::to_string(static_cast<int>(by)));
}

analyzer::GroupFilters parse_filters(const Filters& filters, std::string* key) {
    analyzer::GroupFilters out;
    try {
        for (const std::string& f : filters.include) {
            out.include.push_back(analyzer::parse_filter(f));
            if (key) *key += "+" + f + "\n";
        }
        for (const std::string& f : filters.exclude) {
            out.exclude.push_back(analyzer::parse_filter(f));
            if (key) *key += "-" + f + "\n";
        }
    } catch (const analyzer::SpecError& e) {
        bad(DetectorError::Code::bad_argument, e.what());
    }
    return out;
}

void check_this_process(const SnapshotData& a) {
    const auto self = static_cast<std::uint32_t>(::getpid());
    if (a.live.pid != self) {
        bad(DetectorError::Code::other_process,
            "snapshot '" + a.label + "' was taken in process " + std::to_string(a.live.pid) +
                ", this is process " + std::to_string(self) +
                " (after fork, create a new LeakDetector in the child)");
    }
}

void check_same_detector(const SnapshotData& a, const SnapshotData& b) {
    check_this_process(a);
    check_this_process(b);
    if (&a == &b) {
        bad(DetectorError::Code::same_snapshot,
            "snapshot '" + a.label + "' compared with itself (take a second snapshot first)");
    }
    if (a.detector != b.detector) {
        bad(DetectorError::Code::foreign_snapshot,
            "snapshots '" + a.label + "' and '" + b.label +
                "' come from two different LeakDetectors (compare snapshots of one detector)");
    }
}

DetectorCore::DetectorCore()
    : id_(g_next_detector.fetch_add(1)), pid_(static_cast<std::uint32_t>(::getpid())) {
    started_late_ = !enable_live_view();
    trace_ = std::make_unique<analyzer::ReplayResult>();
    modules_ = std::make_unique<ProcessModules>(trace_->modules);
    modules_->refresh();
    keys_ = std::make_unique<KeyCache>(trace_->stacks, trace_->modules);
}

DetectorCore::~DetectorCore() = default;

std::shared_ptr<const SnapshotData> DetectorCore::snapshot(std::string_view label) {
    const auto self = static_cast<std::uint32_t>(::getpid());
    if (self != pid_) {
        bad(DetectorError::Code::other_process,
            "this detector was created in process " + std::to_string(pid_) + ", this is process " +
                std::to_string(self) + " (after fork, create a new LeakDetector in the child)");
    }
    auto data = std::make_shared<SnapshotData>();
    data->core = shared_from_this();
    data->detector = id_;
    data->label = label.empty() ? "detector-" + std::to_string(id_) + "-" +
                                      std::to_string(next_label_.fetch_add(1))
                                : std::string(label);
    data->live = take_live_snapshot(data->label);
    if (data->live.since_ns != 0) started_late_ = true;
    return data;
}

void DetectorCore::learn_stacks(const LiveCopy& live) {
    bool refreshed = false;
    for (const LiveSite& site : live.sites) {
        const auto id = static_cast<analyzer::StackId>(site.stack);
        if (trace_->stacks.contains(id)) continue;
        if (!refreshed) {
            // A stack first seen now may run through a library dlopen'ed since the last look.
            modules_->refresh();
            refreshed = true;
        }
        trace_->stacks.define(id, stack_frames(site.stack));
    }
}

std::shared_ptr<const LiveGrouped> DetectorCore::grouped(const SnapshotData& snap, By by,
                                                        const analyzer::GroupFilters& filters,
                                                        const std::string& filters_key) {
    {
        std::lock_guard lk(snap.mu);
        for (const auto& g : snap.groupings) {
            if (g.by == by && g.filters == filters_key) return g.grouped;
        }
    }
    std::shared_ptr<const LiveGrouped> result;
    {
        std::lock_guard lk(mu_);
        learn_stacks(snap.live);
        result = std::make_shared<const LiveGrouped>(
            keys_->group(snap.live.sites, by, snap.live.sample_interval != 0, filters));
    }
    std::lock_guard lk(snap.mu);
    snap.groupings.push_back({by, filters_key, result});
    if (snap.groupings.size() > kGroupingsKept) snap.groupings.erase(snap.groupings.begin());
    return result;
}

std::vector<StatisticDiff> DetectorCore::compare(const SnapshotData* older,
                                                 const SnapshotData& newer, By by,
                                                 const Filters& filters, std::size_t top,
                                                 std::uint64_t min_growth) {
    to_group_by(by);  // rejects a value outside the enum
    std::string key;
    const analyzer::GroupFilters parsed = parse_filters(filters, &key);
    const auto now = grouped(newer, by, parsed, key);
    const auto before = older != nullptr ? grouped(*older, by, parsed, key) : nullptr;
    std::vector<StatisticDiff> rows;
    {
        // The interned keys the rows copy from are the detector's.
        std::lock_guard lk(mu_);
        rows = compare_live(before.get(), *now);
    }
    if (min_growth > 0) {
        std::erase_if(rows, [&](const StatisticDiff& r) {
            return r.size_diff < 0 || static_cast<std::uint64_t>(r.size_diff) < min_growth;
        });
    }
    if (top > 0 && rows.size() > top) rows.resize(top);
    return rows;
}

std::string DetectorCore::source_line(const std::string& file, std::uint32_t line) {
    if (file.empty() || line == 0) return {};
    std::lock_guard lk(mu_);
    auto it = sources_.find(file);
    if (it == sources_.end()) {
        std::vector<std::string> lines;
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        if (!ec && size <= kMaxSourceFile) {
            std::ifstream in(file);
            for (std::string l; std::getline(in, l);) lines.push_back(std::move(l));
        }
        it = sources_.emplace(file, std::move(lines)).first;
    }
    if (line > it->second.size()) return {};
    std::string text = it->second[line - 1];
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

}  // namespace heapwise::api
