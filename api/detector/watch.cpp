// LeakDetector::watch: a thread of its own takes a snapshot every `every`, compares its live
// bytes with the base's and, with MemoryMonitor's hysteresis (api::next_level: rising needs no
// margin, falling needs the band), calls back with the top growing rows when growth crosses the
// bound, and again every `repeat` while it stays above. The whole thread runs inside an
// InternalScope: nothing it allocates shows in any snapshot. It never busy-polls.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "../monitor_core.hpp"
#include "detector_core.hpp"
#include "heapwise/leak_detector.hpp"
#include "tracer_link.hpp"

namespace heapwise {
namespace api {

class WatchThread : public std::enable_shared_from_this<WatchThread> {
public:
    WatchThread(std::shared_ptr<DetectorCore> core, WatchOptions options, WatchCallback callback,
                Snapshot base)
        : core_(std::move(core)), opt_(std::move(options)), callback_(std::move(callback)),
          base_(std::move(base)) {
        band_ = opt_.hysteresis != 0 ? opt_.hysteresis : opt_.min_growth / 10;
    }
    ~WatchThread() { stop(); }

    void start() { thread_ = std::thread([this] { run(); }); }

    void stop() {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (!thread_.joinable()) return;
        if (thread_.get_id() == std::this_thread::get_id()) {
            // Stopped from inside its own callback: the thread cannot join itself. It keeps this
            // object alive and drops it after its last use of it (end of run()).
            std::lock_guard lk(mu_);
            self_ = shared_from_this();
            thread_.detach();
        } else {
            thread_.join();
        }
    }

    std::uint64_t checks() const { return checks_.load(); }
    std::uint64_t alerts() const { return alerts_.load(); }

private:
    void run() {
        loop();
        std::shared_ptr<WatchThread> keep;
        {
            std::lock_guard lk(mu_);
            keep = std::move(self_);
        }
        // keep may be the last reference: this object ends here, and nothing below touches it.
    }

    void loop() {
        InternalScope internal;
        auto next = std::chrono::steady_clock::now() + opt_.every;
        std::unique_lock lk(mu_);
        while (!stop_) {
            cv_.wait_until(lk, next, [this] { return stop_; });
            if (stop_) break;
            lk.unlock();
            const auto now = std::chrono::steady_clock::now();
            try {
                check(now);
            } catch (...) {
                // A tracer that stopped or a throwing callback must not end the process.
            }
            next = now + opt_.every;
            lk.lock();
        }
    }

    void check(std::chrono::steady_clock::time_point now) {
        Snapshot snap(core_->snapshot({}));
        ++checks_;
        const auto growth = static_cast<std::int64_t>(snap.live_bytes() - base_.live_bytes());
        const double value = growth > 0 ? static_cast<double>(growth) : 0.0;
        const auto bound = static_cast<double>(opt_.min_growth);
        const Level level = next_level(level_, value, bound, bound, static_cast<double>(band_));
        bool call = false;
        if (level != level_) {
            call = level != Level::normal || opt_.notify_fall;
            told_at_ = now;
        } else if (level != Level::normal && opt_.repeat.count() > 0 && now - told_at_ >= opt_.repeat) {
            call = true;
            told_at_ = now;
        }
        level_ = level;
        if (!call) return;
        WatchEvent ev;
        ev.growth = growth;
        ev.live_bytes = snap.live_bytes();
        ev.raised = level != Level::normal;
        ev.estimated = snap.estimated();
        for (StatisticDiff& r : snap.compare_to(base_, opt_.by, opt_.filters).top(opt_.top == 0 ? SIZE_MAX : opt_.top)) {
            if (r.size_diff > 0) ev.top.push_back(std::move(r));
        }
        ev.snapshot = std::move(snap);
        ++alerts_;
        callback_(ev);
    }

    std::shared_ptr<DetectorCore> core_;
    WatchOptions opt_;
    WatchCallback callback_;
    Snapshot base_;
    std::uint64_t band_ = 0;
    Level level_ = Level::normal;
    std::chrono::steady_clock::time_point told_at_{};
    std::atomic<std::uint64_t> checks_{0}, alerts_{0};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
    std::shared_ptr<WatchThread> self_;  // set when stopped from its own thread
};

}  // namespace api

Watch LeakDetector::watch(const WatchOptions& options, WatchCallback callback) {
    api::InternalScope internal;
    auto bad = [](const std::string& what) {
        throw DetectorError(DetectorError::Code::bad_argument, "heapwise::LeakDetector::watch: " + what);
    };
    if (options.min_growth == 0) bad("min_growth must be > 0");
    if (options.every.count() <= 0) bad("every must be > 0");
    if (options.repeat.count() < 0) bad("repeat must be >= 0");
    if (options.hysteresis > options.min_growth) bad("hysteresis must not exceed min_growth");
    if (!callback) bad("empty callback");
    api::parse_filters(options.filters, nullptr);  // a bad filter fails now, not on the thread
    Snapshot base = options.base != nullptr ? *options.base : take_snapshot();
    if (base.data().detector != core_->id()) {
        throw DetectorError(DetectorError::Code::foreign_snapshot,
                            "heapwise::LeakDetector::watch: the base snapshot '" + base.label() +
                                "' comes from another LeakDetector");
    }
    api::check_this_process(base.data());
    auto thread = std::make_shared<api::WatchThread>(core_, options, std::move(callback), std::move(base));
    thread->start();
    return Watch(std::move(thread));
}

Watch::~Watch() { reset(); }
Watch::Watch(Watch&& o) noexcept : thread_(std::move(o.thread_)) {}
Watch& Watch::operator=(Watch&& o) noexcept {
    if (this != &o) {
        reset();
        thread_ = std::move(o.thread_);
    }
    return *this;
}

void Watch::reset() {
    if (!thread_) return;
    api::InternalScope internal;
    thread_->stop();
    thread_.reset();
}

std::uint64_t Watch::checks() const { return thread_ ? thread_->checks() : 0; }
std::uint64_t Watch::alerts() const { return thread_ ? thread_->alerts() : 0; }

}  // namespace heapwise
