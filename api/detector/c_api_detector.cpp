// The leak detector's C ABI (heapwise/leak_detector.h) over the C++ API. Every entry point runs
// guarded (no exception crosses into C) and inside an InternalScope, so the handles it allocates
// for the caller never show in the detector's own results.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "../capi_guard.hpp"
#include "heapwise/leak_detector.h"
#include "heapwise/leak_detector.hpp"
#include "tracer_link.hpp"

struct heapwise_detector {
    heapwise::LeakDetector det;
};
struct heapwise_detector_snapshot {
    heapwise::Snapshot snap;
};
struct heapwise_stats {
    std::vector<heapwise::StatisticDiff> rows;
};
struct heapwise_watch {
    heapwise::Watch watch;
};

namespace heapwise::api {
namespace {

thread_local int t_kind = HEAPWISE_DETECTOR_OK;

int kind_of(DetectorError::Code code) noexcept {
    switch (code) {
        case DetectorError::Code::no_tracer: return HEAPWISE_DETECTOR_NO_TRACER;
        case DetectorError::Code::no_live_view: return HEAPWISE_DETECTOR_NO_LIVE_VIEW;
        case DetectorError::Code::foreign_snapshot: return HEAPWISE_DETECTOR_FOREIGN_SNAPSHOT;
        case DetectorError::Code::other_process: return HEAPWISE_DETECTOR_OTHER_PROCESS;
        case DetectorError::Code::same_snapshot: return HEAPWISE_DETECTOR_SAME_SNAPSHOT;
        case DetectorError::Code::empty_snapshot: return HEAPWISE_DETECTOR_EMPTY_SNAPSHOT;
        case DetectorError::Code::bad_argument: return HEAPWISE_DETECTOR_BAD_ARGUMENT;
    }
    return HEAPWISE_DETECTOR_BAD_ARGUMENT;
}

template <class F>
heapwise_status dguard(std::string_view what, F&& body) noexcept {
    InternalScope internal;
    try {
        return body();
    } catch (const DetectorError& e) {
        t_kind = kind_of(e.code());
        const bool state = e.code() == DetectorError::Code::no_tracer ||
                           e.code() == DetectorError::Code::no_live_view;
        return fail(state ? HEAPWISE_ESTATE : HEAPWISE_EINVAL, what, e.what());
    } catch (...) {
        t_kind = HEAPWISE_DETECTOR_OK;
        return fail_current(what);
    }
}

By by_of(int by) {
    if (by < HEAPWISE_BY_LINENO || by > HEAPWISE_BY_TRACEBACK) {
        throw DetectorError(DetectorError::Code::bad_argument,
                            "unknown grouping key " + std::to_string(by) +
                                " (expected HEAPWISE_BY_LINENO ... HEAPWISE_BY_TRACEBACK)");
    }
    return static_cast<By>(by);
}

std::vector<std::string> strings(const char* const* list, std::size_t n, const char* what) {
    if (list == nullptr && n != 0) {
        throw DetectorError(DetectorError::Code::bad_argument,
                            std::string(what) + " is NULL with a non-zero count");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        if (list[i] == nullptr) {
            throw DetectorError(DetectorError::Code::bad_argument,
                                std::string(what) + "[" + std::to_string(i) + "] is NULL");
        }
        out.emplace_back(list[i]);
    }
    return out;
}

Filters filters_of(const heapwise_query& q) {
    return {strings(q.include, q.include_count, "include"),
            strings(q.exclude, q.exclude_count, "exclude")};
}

heapwise_query default_query() {
    heapwise_query q;
    heapwise_query_init(&q);
    return q;
}

// Keeps rows that pass q's bound and top, as compare() with DiffOptions would.
std::vector<StatisticDiff> select(const Differences& d, const heapwise_query& q) {
    std::vector<StatisticDiff> out;
    for (const StatisticDiff& r : d) {
        if (q.min_growth > 0 && (r.size_diff < 0 || static_cast<std::uint64_t>(r.size_diff) < q.min_growth)) continue;
        if (q.top > 0 && out.size() == q.top) break;
        out.push_back(r);
    }
    return out;
}

ReportOptions report_options(const heapwise_query* q, const heapwise_snapshot_t* since) {
    ReportOptions o;
    if (q != nullptr) {
        o.by = by_of(q->by);
        o.top = q->top;
        o.min_growth = q->min_growth;
        o.filters = filters_of(*q);
    }
    if (since != nullptr) o.since = &since->snap;
    return o;
}

heapwise_status copy_text(const std::string& text, char* buf, std::size_t cap, std::size_t* len) {
    if (len != nullptr) *len = text.size();
    if (cap <= text.size()) return HEAPWISE_TOO_SMALL;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    return HEAPWISE_OK;
}

}  // namespace
}  // namespace heapwise::api

using heapwise::api::dguard;
using heapwise::api::fail;

extern "C" {

HEAPWISE_API int heapwise_detector_last_error_kind(void) { return heapwise::api::t_kind; }

HEAPWISE_API size_t heapwise_detector_struct_size(const char* name) {
    if (name == nullptr) return 0;
    const std::string_view n(name);
    if (n == "heapwise_detector_info") return sizeof(heapwise_detector_info);
    if (n == "heapwise_snapshot_info") return sizeof(heapwise_snapshot_info);
    if (n == "heapwise_query") return sizeof(heapwise_query);
    if (n == "heapwise_stat_row") return sizeof(heapwise_stat_row);
    if (n == "heapwise_watch_event") return sizeof(heapwise_watch_event);
    if (n == "heapwise_watch_options") return sizeof(heapwise_watch_options);
    return 0;
}

HEAPWISE_API heapwise_status heapwise_detector_create(heapwise_detector_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(out != nullptr, "heapwise_detector_create");
    return dguard("heapwise_detector_create", [&] {
        *out = new heapwise_detector();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_detector_destroy(heapwise_detector_t* det) {
    heapwise::api::InternalScope internal;
    delete det;
}

HEAPWISE_API heapwise_status heapwise_detector_info_get(const heapwise_detector_t* det,
                                                        heapwise_detector_info* out) {
    HW_CAPI_REQUIRE(det != nullptr && out != nullptr, "heapwise_detector_info_get");
    *out = heapwise_detector_info{};
    out->pid = det->det.baseline().pid();
    out->started_late = det->det.started_late() ? 1 : 0;
    out->since_ns = det->det.since_ns();
    out->sample_interval = det->det.sample_interval();
    return HEAPWISE_OK;
}

HEAPWISE_API heapwise_status heapwise_snapshot_take(heapwise_detector_t* det, const char* label,
                                                    heapwise_snapshot_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(det != nullptr && out != nullptr, "heapwise_snapshot_take");
    return dguard("heapwise_snapshot_take", [&] {
        *out = new heapwise_detector_snapshot{det->det.take_snapshot(label ? label : "")};
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_detector_baseline(const heapwise_detector_t* det,
                                                        heapwise_snapshot_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(det != nullptr && out != nullptr, "heapwise_detector_baseline");
    return dguard("heapwise_detector_baseline", [&] {
        *out = new heapwise_detector_snapshot{det->det.baseline()};
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_snapshot_free(heapwise_snapshot_t* snap) {
    heapwise::api::InternalScope internal;
    delete snap;
}

HEAPWISE_API heapwise_status heapwise_snapshot_info_get(const heapwise_snapshot_t* snap,
                                                        heapwise_snapshot_info* out) {
    HW_CAPI_REQUIRE(snap != nullptr && out != nullptr, "heapwise_snapshot_info_get");
    return dguard("heapwise_snapshot_info_get", [&] {
        const heapwise::Snapshot& s = snap->snap;
        *out = heapwise_snapshot_info{};
        out->label = s.label().c_str();
        out->pid = s.pid();
        out->estimated = s.estimated() ? 1 : 0;
        out->time_ns = s.time_ns();
        out->live_bytes = s.live_bytes();
        out->live_count = s.live_count();
        out->sites = s.sites();
        out->sample_interval = s.sample_interval();
        out->lost_events = s.lost_events();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_query_init(heapwise_query* q) {
    if (q == nullptr) return;
    *q = heapwise_query{};
    q->by = HEAPWISE_BY_LINENO;
}

HEAPWISE_API heapwise_status heapwise_snapshot_compare(const heapwise_snapshot_t* now,
                                                       const heapwise_snapshot_t* base,
                                                       const heapwise_query* q,
                                                       heapwise_stats_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(now != nullptr && base != nullptr && out != nullptr, "heapwise_snapshot_compare");
    return dguard("heapwise_snapshot_compare", [&] {
        const heapwise_query query = q ? *q : heapwise::api::default_query();
        const auto d = now->snap.compare_to(base->snap, heapwise::api::by_of(query.by),
                                            heapwise::api::filters_of(query));
        *out = new heapwise_stats{heapwise::api::select(d, query)};
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_snapshot_statistics(const heapwise_snapshot_t* snap,
                                                          const heapwise_query* q,
                                                          heapwise_stats_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(snap != nullptr && out != nullptr, "heapwise_snapshot_statistics");
    return dguard("heapwise_snapshot_statistics", [&] {
        const heapwise_query query = q ? *q : heapwise::api::default_query();
        const auto d = snap->snap.statistics(heapwise::api::by_of(query.by),
                                             heapwise::api::filters_of(query));
        *out = new heapwise_stats{heapwise::api::select(d, query)};
        return HEAPWISE_OK;
    });
}

HEAPWISE_API size_t heapwise_stats_count(const heapwise_stats_t* stats) {
    return stats ? stats->rows.size() : 0;
}

HEAPWISE_API heapwise_status heapwise_stats_row(const heapwise_stats_t* stats, size_t i,
                                                heapwise_stat_row* out) {
    HW_CAPI_REQUIRE(stats != nullptr && out != nullptr, "heapwise_stats_row");
    if (i >= stats->rows.size()) return HEAPWISE_NOT_FOUND;
    const heapwise::StatisticDiff& r = stats->rows[i];
    *out = heapwise_stat_row{};
    out->key = r.key.c_str();
    out->function = r.site.function.c_str();
    out->file = r.site.file.c_str();
    out->module = r.site.module.c_str();
    out->site = r.site.text.c_str();
    out->line = r.site.line;
    out->estimated = r.estimated ? 1 : 0;
    out->size = r.size;
    out->size_diff = r.size_diff;
    out->count = r.count;
    out->count_diff = r.count_diff;
    out->traceback_count = r.traceback.size();
    return HEAPWISE_OK;
}

HEAPWISE_API heapwise_status heapwise_stats_frame(const heapwise_stats_t* stats, size_t i, size_t j,
                                                  const char** text) {
    HW_CAPI_REQUIRE(stats != nullptr && text != nullptr, "heapwise_stats_frame");
    if (i >= stats->rows.size() || j >= stats->rows[i].traceback.size()) return HEAPWISE_NOT_FOUND;
    *text = stats->rows[i].traceback[j].c_str();
    return HEAPWISE_OK;
}

HEAPWISE_API heapwise_status heapwise_stats_format(const heapwise_stats_t* stats, size_t i,
                                                   char* buf, size_t cap, size_t* len) {
    HW_CAPI_REQUIRE(stats != nullptr && (buf != nullptr || cap == 0), "heapwise_stats_format");
    if (i >= stats->rows.size()) return HEAPWISE_NOT_FOUND;
    return dguard("heapwise_stats_format", [&] {
        return heapwise::api::copy_text(heapwise::to_string(stats->rows[i]), buf, cap, len);
    });
}

HEAPWISE_API void heapwise_stats_free(heapwise_stats_t* stats) {
    heapwise::api::InternalScope internal;
    delete stats;
}

HEAPWISE_API heapwise_status heapwise_detector_report(heapwise_detector_t* det,
                                                      const heapwise_query* q,
                                                      const heapwise_snapshot_t* since, char* buf,
                                                      size_t cap, size_t* len) {
    HW_CAPI_REQUIRE(det != nullptr && (buf != nullptr || cap == 0), "heapwise_detector_report");
    return dguard("heapwise_detector_report", [&] {
        return heapwise::api::copy_text(det->det.report(heapwise::api::report_options(q, since)),
                                        buf, cap, len);
    });
}

HEAPWISE_API heapwise_status heapwise_detector_print_report(heapwise_detector_t* det,
                                                            const heapwise_query* q,
                                                            const heapwise_snapshot_t* since,
                                                            int fd) {
    HW_CAPI_REQUIRE(det != nullptr && fd >= 0, "heapwise_detector_print_report");
    return dguard("heapwise_detector_print_report", [&] {
        const std::string text = det->det.report(heapwise::api::report_options(q, since));
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const int err = errno;
                return fail(HEAPWISE_EIO, "heapwise_detector_print_report", std::strerror(err), err);
            }
            done += static_cast<std::size_t>(n);
        }
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_watch_options_init(heapwise_watch_options* o) {
    if (o == nullptr) return;
    *o = heapwise_watch_options{};
    o->every_ms = 30000;
    heapwise_query_init(&o->query);
    o->query.top = 10;
}

HEAPWISE_API heapwise_status heapwise_detector_watch(heapwise_detector_t* det,
                                                     const heapwise_watch_options* o,
                                                     heapwise_watch_fn fn, void* user,
                                                     heapwise_watch_t** out) {
    if (out != nullptr) *out = nullptr;
    HW_CAPI_REQUIRE(det != nullptr && o != nullptr && fn != nullptr && out != nullptr,
                    "heapwise_detector_watch");
    return dguard("heapwise_detector_watch", [&] {
        heapwise::WatchOptions w;
        w.min_growth = o->min_growth;
        w.every = std::chrono::milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(o->every_ms, INT64_MAX / 1000000)));
        w.hysteresis = o->hysteresis;
        w.repeat = std::chrono::milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(o->repeat_ms, INT64_MAX / 1000000)));
        w.notify_fall = o->notify_fall != 0;
        w.top = o->query.top;
        w.by = heapwise::api::by_of(o->query.by);
        w.filters = heapwise::api::filters_of(o->query);
        if (o->base != nullptr) w.base = &o->base->snap;
        auto handle = std::make_unique<heapwise_watch>();
        handle->watch = det->det.watch(w, [fn, user](const heapwise::WatchEvent& ev) {
            heapwise_stats rows{ev.top};
            heapwise_detector_snapshot snap{ev.snapshot};
            heapwise_watch_event e{};
            e.growth = ev.growth;
            e.live_bytes = ev.live_bytes;
            e.raised = ev.raised ? 1 : 0;
            e.estimated = ev.estimated ? 1 : 0;
            e.top = &rows;
            e.snapshot = &snap;
            fn(&e, user);
        });
        *out = handle.release();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_watch_counts(const heapwise_watch_t* w, uint64_t* checks,
                                                   uint64_t* alerts) {
    HW_CAPI_REQUIRE(w != nullptr, "heapwise_watch_counts");
    if (checks != nullptr) *checks = w->watch.checks();
    if (alerts != nullptr) *alerts = w->watch.alerts();
    return HEAPWISE_OK;
}

HEAPWISE_API void heapwise_watch_stop(heapwise_watch_t* w) {
    heapwise::api::InternalScope internal;
    delete w;
}

}  // extern "C"
