// MemoryMonitor: a background sampler of memory_stats() with warning/critical thresholds,
// hysteresis, a repeat interval, a rolling window (min, max, mean, percentiles, trend), PSI
// wake-ups where the kernel allows them, and cache shrinking under pressure (attach).
// Callbacks run on the monitor's own thread. Reference: docs/api-monitor.md.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "heapwise/export.h"
#include "heapwise/memory.hpp"

namespace heapwise {

class Cache;

enum class Level : std::uint8_t { normal, warning, critical };
HEAPWISE_API const char* to_string(Level level) noexcept;

// Which figure the thresholds apply to.
enum class Metric : std::uint8_t {
    container,  // MemoryStats::used against MemoryStats::limit (the cgroup's, else the system's)
    process,    // this process's RSS against MemoryStats::limit
    system,     // the system's used memory against MemTotal
};

// How the monitor learns about pressure between its timed samples.
enum class MonitorMode : std::uint8_t { polling, psi };
HEAPWISE_API const char* to_string(MonitorMode mode) noexcept;

// Time as the monitor sees it. The default is std::chrono::steady_clock; ManualClock lets a
// test drive time. wait_until is how the monitor thread sleeps: it returns when `deadline`
// has passed or `wake` returns true (checked whenever cv is notified).
class HEAPWISE_API MonitorClock {
public:
    using time_point = std::chrono::steady_clock::time_point;
    virtual ~MonitorClock();
    virtual time_point now() = 0;
    virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            time_point deadline, const std::function<bool()>& wake) = 0;
    // Called by a thread that will not wait on this clock again (the monitor thread's exit).
    virtual void thread_done() {}
};

// A clock that moves only when told. advance() wakes the monitor thread and returns once it
// has handled everything due and gone back to sleep, so a test sees each sample's callbacks
// before advance() returns.
class HEAPWISE_API ManualClock final : public MonitorClock {
public:
    ManualClock();
    ~ManualClock() override;
    time_point now() override;
    void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                    time_point deadline, const std::function<bool()>& wake) override;
    // Moves time forward by d and waits (up to 10 s of real time) until every thread sleeping
    // on this clock is asleep again with a deadline in the future. False on that timeout.
    bool advance(std::chrono::nanoseconds d);
    void thread_done() override;
    // Waits (up to 10 s) until `n` threads are asleep on this clock.
    bool wait_for_sleepers(int n);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// The figures the monitor samples; the default is memory_stats() of the parts the metric needs.
using MemorySource = std::function<MemoryStats()>;

struct MonitorOptions {
    double warning = 80.0;   // percent of the metric's limit; 0 < warning <= critical
    double critical = 90.0;  // percent; critical <= 100 unless thresholds are in bytes
    // When non-zero, thresholds are absolute bytes of the metric's figure instead of percent.
    std::uint64_t warning_bytes = 0;
    std::uint64_t critical_bytes = 0;
    std::chrono::milliseconds interval{1000};  // between timed samples; > 0
    Metric metric = Metric::container;
    // Hysteresis: a level is left only once the reading is this far below its threshold
    // (percent points, or bytes with byte thresholds). Entering a level needs no margin.
    double hysteresis = 5.0;
    std::uint64_t hysteresis_bytes = 0;
    // While the level stays warning or critical the callbacks are repeated this often; 0 = once.
    std::chrono::milliseconds repeat{60000};
    std::size_t window = 60;  // samples kept for window(); > 0
    bool psi = true;          // try a PSI trigger for early wake-ups
    // The PSI trigger written to memory.pressure: "some|full <stall us> <window us>".
    std::string psi_trigger = "some 150000 1000000";
    // The pressure file to arm; "" = the cgroup's memory.pressure, else /proc/pressure/memory.
    std::string psi_path = {};
    std::shared_ptr<MonitorClock> clock = {};  // default: steady_clock
    MemorySource source = {};                  // default: memory_stats()
};

// One reading, as check() returns it and callbacks see it.
struct Reading {
    MemoryStats stats;
    std::uint64_t bytes = 0;  // the metric's figure
    std::uint64_t limit = 0;  // what its percent is taken against
    double percent = 0.0;
    Level level = Level::normal;  // of this reading alone, without hysteresis
};

// Statistics over the rolling window of the metric's bytes. Percentiles are nearest-rank:
// the smallest sample with at least q of the samples at or below it.
struct WindowStats {
    std::size_t count = 0;
    std::uint64_t min = 0, max = 0;
    double mean = 0.0;
    std::uint64_t p50 = 0, p90 = 0, p99 = 0;
    double slope = 0.0;       // least-squares trend, bytes per second
    std::int64_t growth = 0;  // newest minus oldest sample, bytes
    double seconds = 0.0;     // time from oldest to newest sample
    double mean_percent = 0.0;
    double last_percent = 0.0;
};

using LevelCallback = std::function<void(Level, const MemoryStats&)>;

namespace api {
class MonitorCore;
}

// Unsubscribes when destroyed; destroying it waits for a callback running on the monitor
// thread to return (unless destroyed from inside that callback).
class HEAPWISE_API Subscription {
public:
    Subscription() = default;
    Subscription(std::weak_ptr<api::MonitorCore> core, std::uint64_t id);
    ~Subscription();
    Subscription(Subscription&& o) noexcept;
    Subscription& operator=(Subscription&& o) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    void reset();  // unsubscribes now
    explicit operator bool() const noexcept { return id_ != 0; }

private:
    std::weak_ptr<api::MonitorCore> core_;
    std::uint64_t id_ = 0;
};

// One action attach() took on a cache, with the text that also went to the cache's listener
// as the reason of each entry it spilled.
struct CacheAction {
    enum class Kind : std::uint8_t { spill, spill_all, regrow };
    Kind kind;
    std::size_t bytes = 0;  // moved out of memory (spill, spill_all); 0 for regrow
    std::size_t limit = 0;  // the cache's memory limit afterwards
    std::string text;       // "spilled 120.0 MiB because container usage crossed 80 % (85.2 % now)"
};

// What attach() does to a cache.
struct AttachOptions {
    double spill_fraction = 0.25;  // warning: spill this part of the cache's memory (0..1]
    bool trim = true;              // critical: malloc_trim(0) and mi_collect(true) after spilling
    // Back at normal, the memory limit grows by regrow_step of max_memory at most once per
    // regrow_interval, until it is back at max_memory.
    double regrow_step = 0.25;
    std::chrono::milliseconds regrow_interval{10000};
    // Under pressure the limit never goes below this part of max_memory, so set() keeps working
    // from memory for small values (0 sends every new value straight to disk).
    double floor = 1.0 / 16;
    // Called on the monitor thread after each action.
    std::function<void(const CacheAction&)> on_action = {};
};

class HEAPWISE_API MemoryMonitor {
public:
    // Throws std::invalid_argument for bad options (thresholds <= 0, warning > critical,
    // interval 0, window 0, a malformed psi_trigger). Starts the sampling thread.
    explicit MemoryMonitor(MonitorOptions options = {});
    ~MemoryMonitor();  // stops the thread promptly, detaches every cache
    MemoryMonitor(const MemoryMonitor&) = delete;
    MemoryMonitor& operator=(const MemoryMonitor&) = delete;

    Subscription on_level(LevelCallback callback);

    // Shrinks the cache under pressure until either side is destroyed (or detach()).
    void attach(Cache& cache, AttachOptions options = {});
    void detach(Cache& cache);

    Reading check();  // a fresh sample on the caller's thread; changes no monitor state
    Level level() const;  // the current level, with hysteresis
    WindowStats window() const;
    MonitorMode mode() const;
    std::string mode_detail() const;  // the pressure file armed, or why polling is used
    std::uint64_t samples() const;    // samples taken by the monitor thread so far

    // One line: level, figures, sources, window trend and mode.
    std::string stats_line() const;
    void log_stats(std::FILE* out = stderr) const;
    void log_stats(std::ostream& out) const;

    const MonitorOptions& options() const noexcept;

private:
    std::shared_ptr<api::MonitorCore> core_;
};

// One step of force_cleanup and what it gave back, measured as RSS before minus RSS after
// (negative when RSS grew meanwhile). `reported` is the step's own figure where it has one
// (the bytes shrink_all_caches moved out of cache memory), else 0.
struct CleanupStep {
    std::string name;  // "shrink_caches", "malloc_trim", "mi_collect"
    std::int64_t bytes = 0;
    std::uint64_t reported = 0;
};
struct CleanupReport {
    std::vector<CleanupStep> steps;
    std::int64_t total = 0;  // RSS before the first step minus RSS after the last
    std::uint64_t rss_before = 0, rss_after = 0;
};

// Spills every live Cache's memory, returns free heap memory to the OS (malloc_trim(0),
// mi_collect(true)) and says what each step recovered. Safe from any thread.
HEAPWISE_API CleanupReport force_cleanup();

}  // namespace heapwise
