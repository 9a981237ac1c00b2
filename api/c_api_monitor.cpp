// The C ABI of heapwise::MemoryMonitor: a handle owning the monitor, its subscriptions (by id, so
// C needs no second handle type) and, for tests, a ManualClock driven by heapwise_monitor_advance.
// C callbacks (level changes, an injected memory source) are wrapped into the C++ std::functions;
// the C side never sees a C++ type or exception.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "capi_guard.hpp"
#include "capi_handles.hpp"
#include "capi_memory.hpp"
#include "heapwise/heapwise.h"
#include "heapwise/monitor.hpp"

struct heapwise_monitor {
    std::shared_ptr<heapwise::ManualClock> manual;  // set with manual_clock
    std::unique_ptr<heapwise::MemoryMonitor> monitor;
    std::mutex mu;  // guards subs and next_id, never held while a subscription is destroyed
    std::map<std::uint64_t, heapwise::Subscription> subs;
    std::uint64_t next_id = 1;

    ~heapwise_monitor() {
        // Subscriptions first (each waits for its running callback), then the thread.
        subs.clear();
        monitor.reset();
    }
};

namespace {

using heapwise::api::guarded;

static_assert(static_cast<int>(heapwise::Level::normal) == HEAPWISE_LEVEL_NORMAL);
static_assert(static_cast<int>(heapwise::Level::warning) == HEAPWISE_LEVEL_WARNING);
static_assert(static_cast<int>(heapwise::Level::critical) == HEAPWISE_LEVEL_CRITICAL);
static_assert(static_cast<int>(heapwise::Metric::container) == HEAPWISE_METRIC_CONTAINER);
static_assert(static_cast<int>(heapwise::Metric::process) == HEAPWISE_METRIC_PROCESS);
static_assert(static_cast<int>(heapwise::Metric::system) == HEAPWISE_METRIC_SYSTEM);
static_assert(static_cast<int>(heapwise::MonitorMode::polling) == HEAPWISE_MODE_POLLING);
static_assert(static_cast<int>(heapwise::MonitorMode::psi) == HEAPWISE_MODE_PSI);

heapwise::MonitorOptions to_options(const heapwise_monitor_options& o,
                                    std::shared_ptr<heapwise::ManualClock>& manual) {
    heapwise::MonitorOptions m;
    m.warning = o.warning;
    m.critical = o.critical;
    m.warning_bytes = o.warning_bytes;
    m.critical_bytes = o.critical_bytes;
    m.interval = std::chrono::milliseconds(o.interval_ms);
    if (o.metric < HEAPWISE_METRIC_CONTAINER || o.metric > HEAPWISE_METRIC_SYSTEM) {
        throw std::invalid_argument(
            "metric must be HEAPWISE_METRIC_CONTAINER, _PROCESS or "
            "_SYSTEM, got " +
            std::to_string(o.metric));
    }
    m.metric = static_cast<heapwise::Metric>(o.metric);
    m.psi = o.psi != 0;
    m.hysteresis = o.hysteresis;
    m.hysteresis_bytes = o.hysteresis_bytes;
    m.repeat = std::chrono::milliseconds(o.repeat_ms);
    m.window = o.window;
    if (o.psi_trigger != nullptr) m.psi_trigger = o.psi_trigger;
    if (o.manual_clock != 0) {
        manual = std::make_shared<heapwise::ManualClock>();
        m.clock = manual;
    }
    if (o.source != nullptr) {
        m.source = [fn = o.source, user = o.source_user] {
            heapwise_memory_stats c{};
            fn(&c, user);
            return heapwise::api::from_c(c);
        };
    }
    return m;
}

void copy_string(const std::string& s, char* buf, std::size_t cap) {
    if (buf == nullptr || cap == 0) return;
    const std::size_t n = s.size() < cap - 1 ? s.size() : cap - 1;
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
}

}  // namespace

extern "C" {

HEAPWISE_API void heapwise_monitor_options_init(heapwise_monitor_options* options) {
    if (options == nullptr) return;
    const heapwise::MonitorOptions d;
    *options = heapwise_monitor_options{};
    options->warning = d.warning;
    options->critical = d.critical;
    options->warning_bytes = d.warning_bytes;
    options->critical_bytes = d.critical_bytes;
    options->interval_ms = static_cast<std::uint64_t>(d.interval.count());
    options->metric = static_cast<int>(d.metric);
    options->psi = d.psi ? 1 : 0;
    options->hysteresis = d.hysteresis;
    options->hysteresis_bytes = d.hysteresis_bytes;
    options->repeat_ms = static_cast<std::uint64_t>(d.repeat.count());
    options->window = d.window;
}

HEAPWISE_API void heapwise_attach_options_init(heapwise_attach_options* options) {
    if (options == nullptr) return;
    const heapwise::AttachOptions d;
    *options = heapwise_attach_options{};
    options->spill_fraction = d.spill_fraction;
    options->trim = d.trim ? 1 : 0;
    options->regrow_step = d.regrow_step;
    options->regrow_interval_ms = static_cast<std::uint64_t>(d.regrow_interval.count());
}

HEAPWISE_API heapwise_status heapwise_monitor_create(const heapwise_monitor_options* options,
                                                     heapwise_monitor_t** out) {
    constexpr const char* what = "heapwise_monitor_create";
    HW_CAPI_REQUIRE(out != nullptr, what);
    *out = nullptr;
    HW_CAPI_REQUIRE(options != nullptr, what);
    return guarded(what, [&] {
        auto h = std::make_unique<heapwise_monitor>();
        heapwise::MonitorOptions mo = to_options(*options, h->manual);
        h->monitor = std::make_unique<heapwise::MemoryMonitor>(std::move(mo));
        // advance() only waits for threads already asleep on the clock: let the monitor thread
        // take its first sample and go to sleep, so the caller's first advance() is not lost.
        if (h->manual && !h->manual->wait_for_sleepers(1)) {
            return heapwise::api::fail(HEAPWISE_EINTERNAL, what,
                                       "the monitor thread did not start within 10 s");
        }
        *out = h.release();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_monitor_destroy(heapwise_monitor_t* monitor) {
    (void)guarded("heapwise_monitor_destroy", [&] {
        delete monitor;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_subscribe(heapwise_monitor_t* monitor,
                                                        heapwise_level_fn fn, void* user,
                                                        uint64_t* id) {
    constexpr const char* what = "heapwise_monitor_subscribe";
    HW_CAPI_REQUIRE(monitor != nullptr && fn != nullptr && id != nullptr, what);
    return guarded(what, [&] {
        heapwise::Subscription sub = monitor->monitor->on_level(
            [fn, user](heapwise::Level level, const heapwise::MemoryStats& st) {
                heapwise_memory_stats c;
                heapwise::api::to_c(st, c);
                fn(static_cast<int>(level), &c, user);
            });
        const std::lock_guard lock(monitor->mu);
        *id = monitor->next_id++;
        monitor->subs.emplace(*id, std::move(sub));
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_unsubscribe(heapwise_monitor_t* monitor,
                                                          uint64_t id) {
    constexpr const char* what = "heapwise_monitor_unsubscribe";
    HW_CAPI_REQUIRE(monitor != nullptr, what);
    return guarded(what, [&] {
        heapwise::Subscription sub;
        {
            const std::lock_guard lock(monitor->mu);
            auto it = monitor->subs.find(id);
            if (it == monitor->subs.end()) return HEAPWISE_NOT_FOUND;
            sub = std::move(it->second);
            monitor->subs.erase(it);
        }
        sub.reset();  // outside the lock: it waits for a running callback
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_attach(heapwise_monitor_t* monitor,
                                                     heapwise_cache_t* cache,
                                                     const heapwise_attach_options* options) {
    constexpr const char* what = "heapwise_monitor_attach";
    HW_CAPI_REQUIRE(monitor != nullptr && cache != nullptr, what);
    return guarded(what, [&] {
        heapwise::AttachOptions ao;
        if (options != nullptr) {
            ao.spill_fraction = options->spill_fraction;
            ao.trim = options->trim != 0;
            ao.regrow_step = options->regrow_step;
            ao.regrow_interval = std::chrono::milliseconds(options->regrow_interval_ms);
        }
        monitor->monitor->attach(cache->cache, ao);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_detach(heapwise_monitor_t* monitor,
                                                     heapwise_cache_t* cache) {
    constexpr const char* what = "heapwise_monitor_detach";
    HW_CAPI_REQUIRE(monitor != nullptr && cache != nullptr, what);
    return guarded(what, [&] {
        monitor->monitor->detach(cache->cache);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_check(heapwise_monitor_t* monitor,
                                                    heapwise_reading* out) {
    constexpr const char* what = "heapwise_monitor_check";
    HW_CAPI_REQUIRE(monitor != nullptr && out != nullptr, what);
    return guarded(what, [&] {
        const heapwise::Reading r = monitor->monitor->check();
        *out = heapwise_reading{};
        heapwise::api::to_c(r.stats, out->stats);
        out->bytes = r.bytes;
        out->limit = r.limit;
        out->percent = r.percent;
        out->level = static_cast<int>(r.level);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API int heapwise_monitor_level(heapwise_monitor_t* monitor) {
    HW_CAPI_REQUIRE(monitor != nullptr, "heapwise_monitor_level");
    return guarded("heapwise_monitor_level",
                   [&] { return static_cast<heapwise_status>(monitor->monitor->level()); });
}

HEAPWISE_API heapwise_status heapwise_monitor_window(heapwise_monitor_t* monitor,
                                                     heapwise_window_stats* out) {
    constexpr const char* what = "heapwise_monitor_window";
    HW_CAPI_REQUIRE(monitor != nullptr && out != nullptr, what);
    return guarded(what, [&] {
        const heapwise::WindowStats w = monitor->monitor->window();
        *out = heapwise_window_stats{w.count,  w.min,     w.max,          w.mean,
                                     w.p50,    w.p90,     w.p99,          w.slope,
                                     w.growth, w.seconds, w.mean_percent, w.last_percent};
        return HEAPWISE_OK;
    });
}

HEAPWISE_API int heapwise_monitor_mode(heapwise_monitor_t* monitor, char* detail,
                                       size_t detail_cap) {
    HW_CAPI_REQUIRE(monitor != nullptr, "heapwise_monitor_mode");
    return guarded("heapwise_monitor_mode", [&] {
        if (detail != nullptr) copy_string(monitor->monitor->mode_detail(), detail, detail_cap);
        return static_cast<heapwise_status>(monitor->monitor->mode());
    });
}

HEAPWISE_API uint64_t heapwise_monitor_samples(heapwise_monitor_t* monitor) {
    if (monitor == nullptr) return 0;
    return monitor->monitor->samples();
}

HEAPWISE_API heapwise_status heapwise_monitor_stats_line(heapwise_monitor_t* monitor, char* buf,
                                                         size_t buf_cap, size_t* len) {
    constexpr const char* what = "heapwise_monitor_stats_line";
    HW_CAPI_REQUIRE(monitor != nullptr && len != nullptr, what);
    HW_CAPI_REQUIRE(heapwise::api::valid_span(buf, buf_cap), what);
    return guarded(what, [&] {
        const std::string line = monitor->monitor->stats_line();
        *len = line.size() + 1;
        if (line.size() + 1 > buf_cap) return HEAPWISE_TOO_SMALL;
        std::memcpy(buf, line.c_str(), line.size() + 1);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_log_stats(heapwise_monitor_t* monitor) {
    HW_CAPI_REQUIRE(monitor != nullptr, "heapwise_monitor_log_stats");
    return guarded("heapwise_monitor_log_stats", [&] {
        monitor->monitor->log_stats(stderr);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_monitor_advance(heapwise_monitor_t* monitor, uint64_t ms) {
    constexpr const char* what = "heapwise_monitor_advance";
    HW_CAPI_REQUIRE(monitor != nullptr, what);
    if (!monitor->manual) {
        return heapwise::api::fail(HEAPWISE_ESTATE, what,
                                   "the monitor was not created with manual_clock");
    }
    HW_CAPI_REQUIRE(ms <= heapwise::api::kMaxTtlMs, what);
    return guarded(what, [&] {
        if (!monitor->manual->advance(std::chrono::milliseconds(ms))) {
            return heapwise::api::fail(HEAPWISE_EINTERNAL, what,
                                       "the monitor thread did not settle within 10 s");
        }
        return HEAPWISE_OK;
    });
}

HEAPWISE_API const char* heapwise_level_name(int level) {
    if (level < HEAPWISE_LEVEL_NORMAL || level > HEAPWISE_LEVEL_CRITICAL) return "";
    return heapwise::to_string(static_cast<heapwise::Level>(level));
}

}  // extern "C"
