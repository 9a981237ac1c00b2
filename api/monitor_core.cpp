// MonitorCore: option checks, the sampling loop (timed, woken early by PSI events), levels
// with hysteresis, per-subscriber notification with a repeat interval, and cache actions.
// The loop never busy-polls: it sleeps on a condition variable until the next sample is due.
#include "monitor_core.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "psi.hpp"

namespace heapwise::api {

namespace {

class SteadyClock final : public MonitorClock {
public:
    time_point now() override { return std::chrono::steady_clock::now(); }
    void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                    time_point deadline, const std::function<bool()>& wake) override {
        cv.wait_until(lock, deadline, wake);
    }
};

[[noreturn]] void bad(const std::string& what) {
    throw std::invalid_argument("heapwise::MemoryMonitor: " + what);
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

void validate(const MonitorOptions& o) {
    bool bytes = o.warning_bytes != 0 || o.critical_bytes != 0;
    if (bytes) {
        if (o.warning_bytes == 0 || o.critical_bytes == 0)
            bad("warning_bytes and critical_bytes must both be set (> 0)");
        if (o.warning_bytes > o.critical_bytes)
            bad("warning_bytes (" + std::to_string(o.warning_bytes) +
                ") must not exceed critical_bytes (" + std::to_string(o.critical_bytes) + ")");
    } else {
        if (!(o.warning > 0.0)) bad("warning threshold must be > 0 (got " + num(o.warning) + ")");
        if (!(o.critical > 0.0))
            bad("critical threshold must be > 0 (got " + num(o.critical) + ")");
        if (o.warning > o.critical)
            bad("warning threshold (" + num(o.warning) + ") must not exceed critical (" +
                num(o.critical) + ")");
        if (o.critical > 100.0) bad("critical threshold is a percent, <= 100 (got " + num(o.critical) + ")");
    }
    if (o.interval.count() <= 0) bad("interval must be > 0");
    if (o.window == 0) bad("window must hold at least 1 sample");
    if (!(o.hysteresis >= 0.0)) bad("hysteresis must be >= 0");
    if (o.repeat.count() < 0) bad("repeat must be >= 0");
    PsiSpec spec;
    std::string why;
    if (o.psi && !parse_psi_trigger(o.psi_trigger, spec, &why))
        bad("psi_trigger '" + o.psi_trigger + "' " + why);
}

}  // namespace

Level raw_level(double value, double warning, double critical) noexcept {
    if (value >= critical) return Level::critical;
    if (value >= warning) return Level::warning;
    return Level::normal;
}

Level next_level(Level current, double value, double warning, double critical,
                 double band) noexcept {
    Level raw = raw_level(value, warning, critical);
    if (raw >= current) return raw;  // rising needs no margin
    // Falling: leave a level only once the reading is a full band below its threshold.
    Level l = current;
    while (l != Level::normal) {
        double threshold = l == Level::critical ? critical : warning;
        if (!(value < threshold - band)) break;
        l = l == Level::critical ? Level::warning : Level::normal;
    }
    return l;
}

MonitorCore::MonitorCore(MonitorOptions options)
    : opt_((validate(options), std::move(options))),
      clock_(opt_.clock ? opt_.clock : std::make_shared<SteadyClock>()),
      bytes_mode_(opt_.warning_bytes != 0),
      warning_(bytes_mode_ ? static_cast<double>(opt_.warning_bytes) : opt_.warning),
      critical_(bytes_mode_ ? static_cast<double>(opt_.critical_bytes) : opt_.critical),
      band_(bytes_mode_ ? static_cast<double>(opt_.hysteresis_bytes) : opt_.hysteresis),
      window_(opt_.window) {
    if (opt_.source) {
        source_ = opt_.source;
    } else {
        // Only the parts the metric needs: smaps_rollup walks every mapping and is skipped.
        StatsParts parts = StatsParts::system | StatsParts::process;
        if (opt_.metric != Metric::system) parts = parts | StatsParts::cgroup;
        source_ = [parts] { return memory_stats(parts); };
    }
    mode_detail_ = "psi disabled by options";
}

MonitorCore::~MonitorCore() { stop(); }

void MonitorCore::start() {
    if (opt_.psi) {
        PsiSpec spec;
        parse_psi_trigger(opt_.psi_trigger, spec, nullptr);
        PsiTrigger t = arm_psi(opt_.psi_path, spec);
        if (t.fd >= 0) {
            stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (stop_fd_ < 0) {
                ::close(t.fd);
                t.fd = -1;
                t.detail = "eventfd failed";
            }
        }
        if (t.fd >= 0) {
            psi_fd_ = t.fd;
            mode_ = MonitorMode::psi;
            mode_detail_ = std::move(t.detail);
            psi_thread_ = std::thread([this] { watch_psi(); });
        } else {
            mode_detail_ = std::move(t.detail);
        }
    }
    thread_ = std::thread([this] { run(); });
}

void MonitorCore::stop() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (stop_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    if (psi_thread_.joinable()) psi_thread_.join();
    if (psi_fd_ >= 0) ::close(psi_fd_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
    psi_fd_ = stop_fd_ = -1;
    std::lock_guard lk(mu_);
    links_.clear();
}

void MonitorCore::watch_psi() {
    pollfd fds[2] = {{psi_fd_, POLLPRI, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
        int n = ::poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        if (fds[0].revents & POLLERR) return;  // the cgroup went away: timed samples go on
        if (fds[0].revents & POLLPRI) {
            {
                std::lock_guard lk(mu_);
                psi_event_ = true;
                ++psi_events_;
            }
            cv_.notify_all();
        }
    }
}

void MonitorCore::run() {
    thread_id_.store(std::this_thread::get_id());
    auto next = clock_->now();  // the first sample is taken at once
    std::unique_lock lk(mu_);
    for (;;) {
        clock_->wait_until(lk, cv_, next, [this] { return stop_ || psi_event_; });
        if (stop_) break;
        psi_event_ = false;
        lk.unlock();
        auto now = clock_->now();
        tick(now);
        next = now + opt_.interval;
        lk.lock();
    }
    lk.unlock();
    clock_->thread_done();
}

Reading MonitorCore::sample() {
    Reading r;
    r.stats = source_();
    const MemoryStats& st = r.stats;
    switch (opt_.metric) {
        case Metric::container: r.bytes = st.used, r.limit = st.limit; break;
        case Metric::process: r.bytes = st.process.rss, r.limit = st.limit; break;
        case Metric::system: r.bytes = st.system.used, r.limit = st.system.total; break;
    }
    if (r.limit != 0)
        r.percent = 100.0 * static_cast<double>(r.bytes) / static_cast<double>(r.limit);
    r.level = raw_level(bytes_mode_ ? static_cast<double>(r.bytes) : r.percent, warning_, critical_);
    return r;
}

void MonitorCore::tick(MonitorClock::time_point now) {
    Reading r = sample();
    double value = bytes_mode_ ? static_cast<double>(r.bytes) : r.percent;
    std::vector<std::shared_ptr<LevelCallback>> to_call;
    std::vector<std::shared_ptr<CacheLink>> links;
    Level level, previous;
    std::unique_lock cb(cb_mu_);  // before mu_: unsubscribe takes them in this order too
    {
        std::lock_guard lk(mu_);
        previous = level_;
        level = level_ = next_level(level_, value, warning_, critical_, band_);
        window_.push(now, r.bytes, r.percent);
        last_ = r;
        ++samples_;
        for (Sub& s : subs_) {
            bool repeat_due = level != Level::normal && opt_.repeat.count() > 0 &&
                              now - s.told_at >= opt_.repeat;
            if (s.told != level || repeat_due) {
                s.told = level;
                s.told_at = now;
                to_call.push_back(s.fn);
            }
        }
        std::erase_if(links_, [](const auto& l) { return l->expired(); });
        links = links_;
    }
    for (auto& fn : to_call) {
        try {
            (*fn)(level, r.stats);
        } catch (...) {
            // A throwing callback must not end the monitor thread (std::terminate).
        }
    }
    for (auto& l : links) l->act(level, previous, r, now);
}

std::uint64_t MonitorCore::subscribe(LevelCallback cb) {
    if (!cb) throw std::invalid_argument("heapwise::MemoryMonitor::on_level: empty callback");
    std::lock_guard lk(mu_);
    std::uint64_t id = next_id_++;
    subs_.push_back({id, std::make_shared<LevelCallback>(std::move(cb))});
    return id;
}

void MonitorCore::unsubscribe(std::uint64_t id) {
    // From the monitor thread (inside a callback) cb_mu_ is already held by this thread.
    bool on_thread = thread_id_.load() == std::this_thread::get_id();
    std::unique_lock<std::mutex> cb;
    if (!on_thread) cb = std::unique_lock(cb_mu_);  // waits out a running callback
    std::lock_guard lk(mu_);
    std::erase_if(subs_, [id](const Sub& s) { return s.id == id; });
}

void MonitorCore::attach(Cache& cache, const AttachOptions& options) {
    auto link = std::make_shared<CacheLink>(cache, options, opt_);
    bool on_thread = thread_id_.load() == std::this_thread::get_id();
    std::unique_lock<std::mutex> cb;
    if (!on_thread) cb = std::unique_lock(cb_mu_);
    std::lock_guard lk(mu_);
    std::erase_if(links_, [&](const auto& l) { return l->same(cache) || l->expired(); });
    links_.push_back(std::move(link));
}

void MonitorCore::detach(Cache& cache) {
    bool on_thread = thread_id_.load() == std::this_thread::get_id();
    std::unique_lock<std::mutex> cb;
    if (!on_thread) cb = std::unique_lock(cb_mu_);
    std::lock_guard lk(mu_);
    std::erase_if(links_, [&](const auto& l) { return l->same(cache); });
}

Level MonitorCore::level() const {
    std::lock_guard lk(mu_);
    return level_;
}

WindowStats MonitorCore::window() const {
    std::lock_guard lk(mu_);
    return window_.stats();
}

MonitorMode MonitorCore::mode() const {
    std::lock_guard lk(mu_);
    return mode_;
}

std::string MonitorCore::mode_detail() const {
    std::lock_guard lk(mu_);
    return mode_detail_;
}

std::uint64_t MonitorCore::samples() const {
    std::lock_guard lk(mu_);
    return samples_;
}

}  // namespace heapwise::api
