// MemoryMonitor and Subscription: the public face over MonitorCore, plus the one-line summary
// that log_stats() prints.
#include <cinttypes>
#include <cstdio>
#include <ostream>
#include <utility>

#include "heapwise/monitor.hpp"
#include "monitor_core.hpp"

namespace heapwise {

const char* to_string(Level level) noexcept {
    switch (level) {
        case Level::normal: return "normal";
        case Level::warning: return "warning";
        case Level::critical: return "critical";
    }
    return "unknown";
}

const char* to_string(MonitorMode mode) noexcept {
    return mode == MonitorMode::psi ? "psi" : "polling";
}

Subscription::Subscription(std::weak_ptr<api::MonitorCore> core, std::uint64_t id)
    : core_(std::move(core)), id_(id) {}

Subscription::~Subscription() { reset(); }

Subscription::Subscription(Subscription&& o) noexcept
    : core_(std::move(o.core_)), id_(std::exchange(o.id_, 0)) {}

Subscription& Subscription::operator=(Subscription&& o) noexcept {
    if (this != &o) {
        reset();
        core_ = std::move(o.core_);
        id_ = std::exchange(o.id_, 0);
    }
    return *this;
}

void Subscription::reset() {
    if (id_ == 0) return;
    if (auto core = core_.lock()) core->unsubscribe(id_);
    id_ = 0;
    core_.reset();
}

MemoryMonitor::MemoryMonitor(MonitorOptions options)
    : core_(std::make_shared<api::MonitorCore>(std::move(options))) {
    core_->start();
}

MemoryMonitor::~MemoryMonitor() { core_->stop(); }

Subscription MemoryMonitor::on_level(LevelCallback callback) {
    std::uint64_t id = core_->subscribe(std::move(callback));
    return Subscription(core_, id);
}

void MemoryMonitor::attach(Cache& cache, AttachOptions options) { core_->attach(cache, options); }
void MemoryMonitor::detach(Cache& cache) { core_->detach(cache); }
Reading MemoryMonitor::check() { return core_->sample(); }
Level MemoryMonitor::level() const { return core_->level(); }
WindowStats MemoryMonitor::window() const { return core_->window(); }
MonitorMode MemoryMonitor::mode() const { return core_->mode(); }
std::string MemoryMonitor::mode_detail() const { return core_->mode_detail(); }
std::uint64_t MemoryMonitor::samples() const { return core_->samples(); }
const MonitorOptions& MemoryMonitor::options() const noexcept { return core_->options(); }
std::string MemoryMonitor::stats_line() const { return core_->stats_line(); }

void MemoryMonitor::log_stats(std::FILE* out) const {
    std::string line = stats_line();
    line += '\n';
    std::fputs(line.c_str(), out ? out : stderr);
    std::fflush(out ? out : stderr);
}

void MemoryMonitor::log_stats(std::ostream& out) const { out << stats_line() << '\n'; }

}  // namespace heapwise

namespace heapwise::api {

namespace {

// "512.0 MiB": one decimal in the largest binary unit that keeps the figure >= 1.
std::string human(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes < 0 ? -bytes : bytes;
    while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%.1f %s", bytes < 0 ? "-" : "", v, units[u]);
    return buf;
}

const char* metric_name(Metric m) {
    switch (m) {
        case Metric::container: return "container";
        case Metric::process: return "process";
        case Metric::system: return "system";
    }
    return "?";
}

}  // namespace

std::string format_bytes(double bytes) { return human(bytes); }

std::string MonitorCore::stats_line() {
    Reading r;
    Level lvl;
    WindowStats w;
    MonitorMode mode;
    {
        std::lock_guard lk(mu_);
        r = last_;
        lvl = level_;
        w = window_.stats();
        mode = mode_;
    }
    if (w.count == 0) r = sample();  // nothing sampled yet: take one now
    const MemoryStats& st = r.stats;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "heapwise memory: level=%s %s %.1f%% (%s of %s; used=%s limit=%s) "
                  "rss=%s peak=%s system=%.1f%% of %s window[n=%zu min=%s max=%s mean=%s "
                  "p90=%s trend=%s/s growth=%s] mode=%s",
                  to_string(lvl), metric_name(opt_.metric), r.percent,
                  human(static_cast<double>(r.bytes)).c_str(),
                  human(static_cast<double>(r.limit)).c_str(), to_string(st.used_source),
                  to_string(st.limit_source), human(static_cast<double>(st.process.rss)).c_str(),
                  human(static_cast<double>(st.process.peak)).c_str(), st.system.percent,
                  human(static_cast<double>(st.system.total)).c_str(), w.count,
                  human(static_cast<double>(w.min)).c_str(),
                  human(static_cast<double>(w.max)).c_str(), human(w.mean).c_str(),
                  human(static_cast<double>(w.p90)).c_str(), human(w.slope).c_str(),
                  human(static_cast<double>(w.growth)).c_str(), to_string(mode));
    return buf;
}

}  // namespace heapwise::api
