// attach(): a cache shrinks when the monitor's level rises and regrows, rate-limited, once it is
// back to normal. Warning lowers the cache's memory limit by the configured fraction of what it
// holds (spilling the coldest entries); critical spills everything, holds the limit at its floor
// and trims the allocators. Every action's text, written after it with the bytes it measured,
// reaches the cache's listener as the reason and on_action.
#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "attach_link.hpp"
#include "cache_core.hpp"
#include "heapwise/cache.hpp"

namespace heapwise::api {

CacheLink::CacheLink(Cache& cache, const AttachOptions& o, const MonitorOptions& m)
    : core_(cache.core_),
      id_(cache.core_.get()),
      opt_(o),
      metric_(m.metric),
      bytes_mode_(m.warning_bytes != 0),
      warning_(bytes_mode_ ? static_cast<double>(m.warning_bytes) : m.warning),
      critical_(bytes_mode_ ? static_cast<double>(m.critical_bytes) : m.critical),
      repeat_(m.repeat) {
    auto bad = [](const char* what) {
        throw std::invalid_argument(std::string("heapwise::MemoryMonitor::attach: ") + what);
    };
    if (!id_) bad("the cache was moved from");
    if (!(o.spill_fraction > 0.0 && o.spill_fraction <= 1.0)) bad("spill_fraction must be in (0, 1]");
    if (!(o.regrow_step > 0.0 && o.regrow_step <= 1.0)) bad("regrow_step must be in (0, 1]");
    if (!(o.floor >= 0.0 && o.floor < 1.0)) bad("floor must be in [0, 1)");
    if (o.regrow_interval.count() < 0) bad("regrow_interval must be >= 0");
}

bool CacheLink::same(Cache& cache) const { return cache.core_.get() == id_; }

std::string CacheLink::why(Level level, const Reading& r) const {
    const char* what = metric_ == Metric::container ? "container usage"
                       : metric_ == Metric::process ? "process RSS"
                                                    : "system memory";
    double threshold = level == Level::critical ? critical_ : warning_;
    char buf[160];
    if (bytes_mode_)
        std::snprintf(buf, sizeof buf, "%s crossed %s (%s now)", what,
                      format_bytes(threshold).c_str(),
                      format_bytes(static_cast<double>(r.bytes)).c_str());
    else
        std::snprintf(buf, sizeof buf, "%s crossed %g %% (%.1f %% now)", what, threshold,
                      r.percent);
    return buf;
}

void CacheLink::report(CacheAction::Kind kind, std::size_t bytes, std::size_t limit,
                       std::string text) {
    if (!opt_.on_action) return;
    try {
        opt_.on_action(CacheAction{kind, bytes, limit, std::move(text)});
    } catch (...) {
        // A throwing observer must not end the monitor thread.
    }
}

void CacheLink::act(Level level, Level previous, const Reading& r, MonitorClock::time_point now) {
    std::shared_ptr<CacheCore> core = core_.lock();  // keeps the core alive for this action
    if (!core) return;
    const std::size_t max = core->max_memory();
    const auto floor = static_cast<std::size_t>(static_cast<double>(max) * opt_.floor);
    const bool repeat_due = changed_ && repeat_.count() > 0 && now - last_change_ >= repeat_;

    // The text is written after the work, with what it measured; the cache's listener and
    // on_action both get it, neither under a lock.
    std::string text;
    auto spilled = [&](std::size_t moved) {
        text = "spilled " + format_bytes(static_cast<double>(moved)) + " because " + why(level, r);
        return text;
    };
    if (level == Level::critical && (previous != Level::critical || repeat_due)) {
        std::size_t moved = core->relieve(1.0, std::min(floor, core->memory_limit()), spilled);
        if (opt_.trim) trim_allocators();
        last_change_ = now, changed_ = true;
        report(CacheAction::Kind::spill_all, moved, core->memory_limit(), text);
    } else if (level == Level::warning && (previous == Level::normal || repeat_due)) {
        const std::size_t held = core->memory_bytes();
        const auto keep = static_cast<std::size_t>(static_cast<double>(held) *
                                                   (1.0 - opt_.spill_fraction));
        const std::size_t limit = std::min(core->memory_limit(), std::max(keep, floor));
        std::size_t moved = core->relieve(0.0, limit, spilled);
        last_change_ = now, changed_ = true;
        report(CacheAction::Kind::spill, moved, core->memory_limit(), text);
    } else if (level == Level::normal && core->memory_limit() < max &&
               (!changed_ || now - last_change_ >= opt_.regrow_interval)) {
        const auto step = std::max<std::size_t>(
            1, static_cast<std::size_t>(static_cast<double>(max) * opt_.regrow_step));
        const std::size_t limit = std::min(max, core->memory_limit() + step);
        char buf[160];
        std::snprintf(buf, sizeof buf, "memory limit raised to %s because %s is back at %.1f %%",
                      format_bytes(static_cast<double>(limit)).c_str(),
                      metric_ == Metric::container ? "container usage"
                      : metric_ == Metric::process ? "process RSS"
                                                   : "system memory",
                      r.percent);
        core->set_memory_limit(limit, buf);
        last_change_ = now, changed_ = true;
        report(CacheAction::Kind::regrow, 0, core->memory_limit(), buf);
    }
}

}  // namespace heapwise::api
