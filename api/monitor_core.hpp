// The state behind MemoryMonitor: options, the sampling thread, the PSI watcher thread,
// subscriptions, attached caches and the rolling window. One mutex (mu_) guards the state;
// callbacks and cache actions run on the sampling thread with mu_ released, under cb_mu_ so
// that unsubscribing from another thread can wait for a running callback to return.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "attach_link.hpp"
#include "heapwise/monitor.hpp"
#include "monitor_window.hpp"

namespace heapwise::api {

// Level of a reading on its own, and with hysteresis from the current level.
Level raw_level(double value, double warning, double critical) noexcept;
Level next_level(Level current, double value, double warning, double critical,
                 double band) noexcept;

class MonitorCore {
public:
    explicit MonitorCore(MonitorOptions options);  // validates; does not start threads
    ~MonitorCore();
    void start();
    void stop();

    std::uint64_t subscribe(LevelCallback cb);
    void unsubscribe(std::uint64_t id);
    void attach(Cache& cache, const AttachOptions& options);
    void detach(Cache& cache);

    Reading sample();  // reads the source, on the calling thread
    Level level() const;
    WindowStats window() const;
    MonitorMode mode() const;
    std::string mode_detail() const;
    std::uint64_t samples() const;
    std::string stats_line();
    const MonitorOptions& options() const noexcept { return opt_; }

private:
    struct Sub {
        std::uint64_t id;
        std::shared_ptr<LevelCallback> fn;
        Level told = Level::normal;  // the last level this subscriber was told about
        MonitorClock::time_point told_at{};
    };

    void run();
    void watch_psi();
    void tick(MonitorClock::time_point now);

    MonitorOptions opt_;
    std::shared_ptr<MonitorClock> clock_;
    MemorySource source_;
    bool bytes_mode_;
    double warning_, critical_, band_;  // in the unit the thresholds use

    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool psi_event_ = false;
    Level level_ = Level::normal;
    RollingWindow window_;
    Reading last_{};
    std::uint64_t samples_ = 0;
    std::uint64_t psi_events_ = 0;
    std::vector<Sub> subs_;
    std::uint64_t next_id_ = 1;
    std::vector<std::shared_ptr<CacheLink>> links_;
    MonitorMode mode_ = MonitorMode::polling;
    std::string mode_detail_;

    std::mutex cb_mu_;  // held while callbacks and cache actions run
    std::atomic<std::thread::id> thread_id_{};
    std::thread thread_;
    std::thread psi_thread_;
    int psi_fd_ = -1;
    int stop_fd_ = -1;  // eventfd that ends the PSI watcher's poll()
};

}  // namespace heapwise::api
