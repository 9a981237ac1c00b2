// heapwise::LeakDetector: Python's tracemalloc workflow (start, take_snapshot, compare_to, top N)
// over a native program's own allocations, fed live by the heapwise tracer (LD_PRELOAD or linked
// in). A snapshot costs the number of distinct allocation stacks, never the number of blocks or
// events; stacks are symbolized only when rows are asked for, once per stack and detector. The
// detector's own allocations never appear in its results. Reference: docs/api-detector.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "heapwise/export.h"
#include "heapwise/units.hpp"

namespace heapwise {

namespace api {
class DetectorCore;
struct SnapshotData;
class WatchThread;
}  // namespace api

// tracemalloc's key_type: what rows group by. Each groups by the allocation *site*: the first
// frame from the leaf that is not allocator or runtime code (malloc, operator new, std::...).
enum class By : std::uint8_t { lineno, function, file, module, traceback };
HEAPWISE_API std::string_view to_string(By by) noexcept;
// "lineno", "function", "file", "module", "traceback"; DetectorError(bad_argument) otherwise.
HEAPWISE_API By parse_by(std::string_view text);

// Every misuse is one of these, with a one-line message; nothing misused crashes.
class HEAPWISE_API DetectorError : public std::runtime_error {
public:
    enum class Code : std::uint8_t {
        no_tracer,         // the heapwise tracer is not loaded, or not recording, in this process
        no_live_view,      // the tracer has no live view (too old), or its writer stopped
        foreign_snapshot,  // a snapshot of another LeakDetector
        other_process,     // a detector or snapshot made in another process (used after fork)
        same_snapshot,     // a snapshot compared with itself
        empty_snapshot,    // a default-constructed Snapshot
        bad_argument,      // a malformed filter, grouping key or option
    };
    DetectorError(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Code code() const noexcept { return code_; }

private:
    Code code_;
};

// Site filters, tracemalloc's filter_traces: globs ('*' = any run) over the site's file,
// function (demangled) or module file name: "file:*/scraper.cpp", "function:parse_*",
// "module:libxml2.so*". With include filters a site must match one; any exclude match drops it.
struct Filters {
    std::vector<std::string> include;
    std::vector<std::string> exclude;
};

// The site frame of a row.
struct SiteInfo {
    std::string function;  // demangled; empty when unknown
    std::string file;      // source path from the debug info; empty when unknown
    std::uint32_t line = 0;
    std::string module;    // module file name ("scraper", "libfoo.so.1"); empty outside any
    std::string text;      // "f at a.cpp:12:3", "libfoo.so+0x1a2b": never empty
};

// One row of compare_to (tracemalloc's StatisticDiff) or statistics (size_diff == size,
// count_diff == count). Figures are estimates when the tracer samples.
struct StatisticDiff {
    std::string key;                     // "scraper.cpp:142", "parse_page", ..., or site text
    SiteInfo site;
    std::vector<std::string> traceback;  // By::traceback: the folded frames, site first
    std::uint64_t size = 0;              // live bytes in the newer snapshot
    std::int64_t size_diff = 0;
    std::uint64_t count = 0;             // live blocks in the newer snapshot
    std::int64_t count_diff = 0;
    bool estimated = false;
    bool has_diff = true;  // false for statistics() rows: printed like tracemalloc's Statistic
};

// tracemalloc's text: "scraper.cpp:142: size=12.3 MiB (+12.3 MiB), count=3000 (+3000),
// average=4.2 KiB" (key, then the sizes as tracemalloc's _format_size prints them); rows of
// statistics() print like tracemalloc's Statistic: "scraper.cpp:142: size=12.3 MiB, count=3000,
// average=4.2 KiB".
HEAPWISE_API std::string to_string(const StatisticDiff& row);
HEAPWISE_API std::ostream& operator<<(std::ostream& out, const StatisticDiff& row);
// tracemalloc's _format_size: "512 B", "4.2 KiB", "9999 B", "+12.3 MiB", "-1.0 GiB".
HEAPWISE_API std::string format_size(double bytes, bool sign);

// Rows sorted like tracemalloc: |size_diff|, then size, then |count_diff|, descending, then key.
class HEAPWISE_API Differences {
public:
    Differences() = default;
    explicit Differences(std::vector<StatisticDiff> rows) : rows_(std::move(rows)) {}
    // The first n rows (all when fewer).
    std::vector<StatisticDiff> top(std::size_t n) const;
    const std::vector<StatisticDiff>& rows() const noexcept { return rows_; }
    std::size_t size() const noexcept { return rows_.size(); }
    bool empty() const noexcept { return rows_.empty(); }
    const StatisticDiff& operator[](std::size_t i) const { return rows_.at(i); }
    auto begin() const noexcept { return rows_.begin(); }
    auto end() const noexcept { return rows_.end(); }

private:
    std::vector<StatisticDiff> rows_;
};

// The live heap per allocation stack at one moment. Cheap to copy (shared, immutable).
class HEAPWISE_API Snapshot {
public:
    Snapshot() = default;  // empty: every query throws DetectorError(empty_snapshot)

    // tracemalloc's compare_to(old_snapshot, key_type): this snapshot against base.
    Differences compare_to(const Snapshot& base, By by = By::lineno, const Filters& filters = {}) const;
    // tracemalloc's statistics(key_type).
    Differences statistics(By by = By::lineno, const Filters& filters = {}) const;

    const std::string& label() const;       // as written into the trace's marker
    std::uint64_t time_ns() const;          // CLOCK_MONOTONIC of the marker
    std::uint32_t pid() const;              // the process it was taken in
    std::uint64_t live_bytes() const;       // every traced block (the detector's own excluded)
    std::uint64_t live_count() const;
    std::size_t sites() const;              // distinct stacks that allocated since aggregation began
    bool estimated() const;                 // sampled tracer: figures are scaled estimates
    std::uint64_t sample_interval() const;  // 0 unless sampled
    std::uint64_t lost_events() const;      // dropped by a lossy tracer so far: figures incomplete
    explicit operator bool() const noexcept { return data_ != nullptr; }

private:
    friend class LeakDetector;
    friend class api::WatchThread;
    explicit Snapshot(std::shared_ptr<const api::SnapshotData> data) : data_(std::move(data)) {}
    const api::SnapshotData& data() const;
    std::shared_ptr<const api::SnapshotData> data_;
};

struct ReportOptions {
    std::size_t top = 10;
    std::uint64_t min_growth = 0;  // rows growing by at least this many bytes (0: any growth)
    By by = By::lineno;
    Filters filters = {};
    const Snapshot* since = nullptr;  // nullptr: the detector's baseline (taken at construction)
    bool source_lines = true;         // print the code line of file:line when the file is readable
};

// What a watch callback receives: the growth that crossed the bound and the top growing rows.
struct WatchEvent {
    std::int64_t growth = 0;          // live bytes now minus at the watch's base
    std::uint64_t live_bytes = 0;
    bool raised = true;               // false: the first check after growth fell back past the band
    bool estimated = false;
    std::vector<StatisticDiff> top;   // growing rows (size_diff > 0), largest first
    Snapshot snapshot;                // the snapshot that was checked
};

struct WatchOptions {
    std::uint64_t min_growth = 0;               // the bound, bytes of growth over the base; > 0
    std::chrono::milliseconds every{30000};     // between checks; > 0
    // Hysteresis as in MemoryMonitor: once raised, the watch falls back only when growth is this
    // many bytes below min_growth; rising needs no margin. 0: min_growth / 10.
    std::uint64_t hysteresis = 0;
    // While growth stays above the bound the callback repeats this often; 0 = once per crossing.
    std::chrono::milliseconds repeat{0};
    std::size_t top = 10;
    By by = By::lineno;
    Filters filters = {};
    bool notify_fall = false;                   // also call back (raised = false) when it falls
    const Snapshot* base = nullptr;             // nullptr: a snapshot taken when the watch starts
};

using WatchCallback = std::function<void(const WatchEvent&)>;

// Stops the watch when destroyed or reset; waits for a running callback to return (unless
// destroyed from inside it).
class HEAPWISE_API Watch {
public:
    Watch() = default;
    ~Watch();
    Watch(Watch&&) noexcept;
    Watch& operator=(Watch&&) noexcept;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    void reset();
    std::uint64_t checks() const;   // checks made so far
    std::uint64_t alerts() const;   // callbacks made so far
    explicit operator bool() const noexcept { return thread_ != nullptr; }

private:
    friend class LeakDetector;
    explicit Watch(std::shared_ptr<api::WatchThread> thread) : thread_(std::move(thread)) {}
    std::shared_ptr<api::WatchThread> thread_;
};

class HEAPWISE_API LeakDetector {
public:
    // Turns the tracer's live aggregation on (heapwise_tracer_live_enable) and takes the
    // baseline snapshot. Throws DetectorError(no_tracer) when the tracer is not recording in this
    // process, DetectorError(no_live_view) when it has no live view.
    LeakDetector();
    ~LeakDetector();
    LeakDetector(const LeakDetector&) = delete;
    LeakDetector& operator=(const LeakDetector&) = delete;

    // The live heap now, after every allocation and free made before the call (in any thread).
    // Also a marker in the trace, labelled `label` (default "detector-D-N"), so `heapwise diff
    // TRACE --from A --to B` shows the same figures (labels should be unique: a marker point is
    // the first marker with its label).
    Snapshot take_snapshot(std::string_view label = {});
    const Snapshot& baseline() const noexcept;

    // Rows that grew since options.since (default: the baseline) by at least min_growth: the
    // site's file:line, its code line, growth and block count delta; one header line first.
    std::string report(const ReportOptions& options = {});
    void print_report(const ReportOptions& options = {});          // to std::cout
    void print_report(const ReportOptions& options, std::ostream& out);

    // Checks growth every options.every on a thread of its own; calls back when it crosses
    // min_growth. Throws DetectorError(bad_argument) for bad options.
    Watch watch(const WatchOptions& options, WatchCallback callback);

    // True when live aggregation began with this detector (or another one started late) rather
    // than with the trace (HEAPWISE_LIVE=1): blocks allocated before then are unknown to it.
    bool started_late() const noexcept;
    std::uint64_t since_ns() const noexcept;       // when aggregation began (0: with the trace)
    bool estimated() const noexcept;               // the tracer samples
    std::uint64_t sample_interval() const noexcept;

private:
    std::shared_ptr<api::DetectorCore> core_;
    Snapshot baseline_;
};

}  // namespace heapwise
