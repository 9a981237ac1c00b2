/* heapwise's in-process leak detector for C (and Python through ctypes): tracemalloc's
 * take_snapshot / compare_to / statistics / top N over the program's own allocations, fed live by
 * the heapwise tracer (LD_PRELOAD=libheapwise_preload.so, or libheapwise_preload.so linked in).
 * Follows the C ABI rules of heapwise.h (status codes, heapwise_last_error, caller-owned buffers,
 * no exception crossing); libheapwise built with -Dtracer=disabled has none of these symbols.
 * Reference: docs/api-detector.md.
 *
 *   heapwise_detector_t* det;
 *   if (heapwise_detector_create(&det) != HEAPWISE_OK) { puts(heapwise_last_error()); return 1; }
 *   heapwise_snapshot_t *base, *now;
 *   heapwise_snapshot_take(det, "before", &base);
 *   work();
 *   heapwise_snapshot_take(det, "after", &now);
 *   heapwise_query q;  heapwise_query_init(&q);  q.top = 10;
 *   heapwise_stats_t* rows;
 *   heapwise_snapshot_compare(now, base, &q, &rows);
 *   char line[512];
 *   for (size_t i = 0; i < heapwise_stats_count(rows); ++i)
 *       if (heapwise_stats_format(rows, i, line, sizeof line, NULL) == HEAPWISE_OK) puts(line);
 *   heapwise_stats_free(rows); heapwise_snapshot_free(now); heapwise_snapshot_free(base);
 *   heapwise_detector_destroy(det); */
#ifndef HEAPWISE_LEAK_DETECTOR_H
#define HEAPWISE_LEAK_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "heapwise/heapwise.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct heapwise_detector heapwise_detector_t;
typedef struct heapwise_detector_snapshot heapwise_snapshot_t;
typedef struct heapwise_stats heapwise_stats_t;
typedef struct heapwise_watch heapwise_watch_t;

/* What rows group by (tracemalloc's key_type), always at the allocation site. */
enum {
    HEAPWISE_BY_LINENO = 0,
    HEAPWISE_BY_FUNCTION = 1,
    HEAPWISE_BY_FILE = 2,
    HEAPWISE_BY_MODULE = 3,
    HEAPWISE_BY_TRACEBACK = 4
};

/* Which misuse a failing detector call met (heapwise_detector_last_error_kind); the status is
 * HEAPWISE_ESTATE for the first two, HEAPWISE_EINVAL for the others. */
enum {
    HEAPWISE_DETECTOR_OK = 0,               /* the last failure was not a detector misuse */
    HEAPWISE_DETECTOR_NO_TRACER = 1,        /* the tracer is not recording in this process */
    HEAPWISE_DETECTOR_NO_LIVE_VIEW = 2,     /* the tracer has no live view, or its writer stopped */
    HEAPWISE_DETECTOR_FOREIGN_SNAPSHOT = 3, /* a snapshot of another detector */
    HEAPWISE_DETECTOR_OTHER_PROCESS = 4,    /* a detector or snapshot from another process (fork) */
    HEAPWISE_DETECTOR_SAME_SNAPSHOT = 5,    /* a snapshot compared with itself */
    HEAPWISE_DETECTOR_EMPTY_SNAPSHOT = 6,
    HEAPWISE_DETECTOR_BAD_ARGUMENT = 7      /* a malformed filter, grouping key or option */
};
/* The kind of the last failing detector call on this thread (HEAPWISE_DETECTOR_OK if none). */
HEAPWISE_API int heapwise_detector_last_error_kind(void);

/* sizeof the named struct of this header ("heapwise_stat_row"), 0 for an unknown name. */
HEAPWISE_API size_t heapwise_detector_struct_size(const char* name);

/* ---- Detector and snapshots ------------------------------------------------------------------ */

/* Turns the tracer's live aggregation on and takes the baseline snapshot. HEAPWISE_ESTATE (kind
 * NO_TRACER) when the tracer is not recording in this process. *out is NULL on failure. */
HEAPWISE_API heapwise_status heapwise_detector_create(heapwise_detector_t** out);
/* Snapshots and watches keep what they need: destroy in any order. NULL is fine. */
HEAPWISE_API void heapwise_detector_destroy(heapwise_detector_t* det);

typedef struct heapwise_detector_info {
    uint32_t pid;
    uint32_t started_late;    /* 1: aggregation began after the trace did (see the docs) */
    uint64_t since_ns;        /* CLOCK_MONOTONIC when aggregation began, 0: with the trace */
    uint64_t sample_interval; /* 0: exact figures; else the tracer samples and figures are estimates */
    uint64_t reserved_[2];
} heapwise_detector_info;
HEAPWISE_API heapwise_status heapwise_detector_info_get(const heapwise_detector_t* det,
                                                        heapwise_detector_info* out);

/* Takes a snapshot (also a marker labelled `label` in the trace; NULL: "detector-D-N"). */
HEAPWISE_API heapwise_status heapwise_snapshot_take(heapwise_detector_t* det, const char* label,
                                                    heapwise_snapshot_t** out);
/* A new handle on the detector's baseline (taken by heapwise_detector_create). */
HEAPWISE_API heapwise_status heapwise_detector_baseline(const heapwise_detector_t* det,
                                                        heapwise_snapshot_t** out);
HEAPWISE_API void heapwise_snapshot_free(heapwise_snapshot_t* snap); /* NULL is fine */

typedef struct heapwise_snapshot_info {
    const char* label;        /* valid while the snapshot handle lives */
    uint32_t pid;
    uint32_t estimated;
    uint64_t time_ns;
    uint64_t live_bytes;
    uint64_t live_count;
    uint64_t sites;
    uint64_t sample_interval;
    uint64_t lost_events;
} heapwise_snapshot_info;
HEAPWISE_API heapwise_status heapwise_snapshot_info_get(const heapwise_snapshot_t* snap,
                                                        heapwise_snapshot_info* out);

/* ---- Comparing ------------------------------------------------------------------------------- */

typedef struct heapwise_query {
    int by;                     /* HEAPWISE_BY_*; default LINENO */
    uint32_t reserved_;
    size_t top;                 /* 0: every row */
    uint64_t min_growth;        /* 0: every row; else rows with size_diff >= min_growth */
    const char* const* include; /* "file:GLOB", "function:GLOB", "module:GLOB" */
    size_t include_count;
    const char* const* exclude;
    size_t exclude_count;
} heapwise_query;
HEAPWISE_API void heapwise_query_init(heapwise_query* q);

/* now against base (tracemalloc's compare_to), or one snapshot on its own (statistics). q NULL:
 * defaults. Bad use (a snapshot of another detector or process, one compared with itself) is
 * HEAPWISE_EINVAL with its kind. Rows come sorted by |size_diff|, size, |count_diff|, key. */
HEAPWISE_API heapwise_status heapwise_snapshot_compare(const heapwise_snapshot_t* now,
                                                       const heapwise_snapshot_t* base,
                                                       const heapwise_query* q,
                                                       heapwise_stats_t** out);
HEAPWISE_API heapwise_status heapwise_snapshot_statistics(const heapwise_snapshot_t* snap,
                                                          const heapwise_query* q,
                                                          heapwise_stats_t** out);

/* One row; its strings stay valid while the heapwise_stats_t lives. */
typedef struct heapwise_stat_row {
    const char* key;      /* "scraper.c:142", "parse_page", ... */
    const char* function; /* the site's function ("" when unknown) */
    const char* file;     /* "" when unknown */
    const char* module;   /* module file name, "" outside any */
    const char* site;     /* "f at a.c:12:3", "libfoo.so+0x1a2b": never empty */
    uint32_t line;
    uint32_t estimated;   /* sampled tracer: scaled figures */
    uint64_t size;
    int64_t size_diff;
    uint64_t count;
    int64_t count_diff;
    size_t traceback_count; /* HEAPWISE_BY_TRACEBACK: frames (site first), else 0 */
} heapwise_stat_row;

HEAPWISE_API size_t heapwise_stats_count(const heapwise_stats_t* stats); /* 0 for NULL */
/* HEAPWISE_NOT_FOUND past the last row. */
HEAPWISE_API heapwise_status heapwise_stats_row(const heapwise_stats_t* stats, size_t i,
                                                heapwise_stat_row* out);
/* Frame j of row i's traceback ("f at a.c:12:3"); NOT_FOUND past the end. */
HEAPWISE_API heapwise_status heapwise_stats_frame(const heapwise_stats_t* stats, size_t i, size_t j,
                                                  const char** text);
/* Row i in tracemalloc's text ("a.c:12: size=1.2 MiB (+1.2 MiB), count=3 (+3), average=400 KiB"),
 * NUL-terminated in buf. *len (may be NULL) gets its length without the NUL; TOO_SMALL when
 * cap <= that length (buf untouched). */
HEAPWISE_API heapwise_status heapwise_stats_format(const heapwise_stats_t* stats, size_t i,
                                                   char* buf, size_t cap, size_t* len);
HEAPWISE_API void heapwise_stats_free(heapwise_stats_t* stats); /* NULL is fine */

/* ---- Reports --------------------------------------------------------------------------------- */

/* A fresh snapshot against `since` (NULL: the baseline): growing rows (q->min_growth, q->top,
 * default top 10), each with file:line, its code line, growth and block count delta. Into buf
 * (NUL-terminated); TOO_SMALL sets *len to the length needed (a new snapshot is taken on retry). */
HEAPWISE_API heapwise_status heapwise_detector_report(heapwise_detector_t* det,
                                                      const heapwise_query* q,
                                                      const heapwise_snapshot_t* since, char* buf,
                                                      size_t cap, size_t* len);
/* The same report written to file descriptor fd (1: stdout). */
HEAPWISE_API heapwise_status heapwise_detector_print_report(heapwise_detector_t* det,
                                                            const heapwise_query* q,
                                                            const heapwise_snapshot_t* since,
                                                            int fd);

/* ---- Watching growth ------------------------------------------------------------------------- */

typedef struct heapwise_watch_event {
    int64_t growth;             /* live bytes now minus at the watch's base */
    uint64_t live_bytes;
    int raised;                 /* 0: growth fell back (only with notify_fall) */
    int estimated;
    const heapwise_stats_t* top;         /* growing rows; valid during the call only */
    const heapwise_snapshot_t* snapshot; /* the snapshot checked; valid during the call only */
} heapwise_watch_event;
typedef void (*heapwise_watch_fn)(const heapwise_watch_event* event, void* user);

typedef struct heapwise_watch_options {
    uint64_t min_growth;        /* bytes of growth over the base that raise the watch; > 0 */
    uint64_t every_ms;          /* between checks; default 30000 */
    uint64_t hysteresis;        /* bytes below min_growth before it falls back; 0: min_growth/10 */
    uint64_t repeat_ms;         /* repeat while raised; 0: once per crossing */
    int notify_fall;            /* also call back when growth falls back */
    uint32_t reserved_;
    heapwise_query query;       /* by, top (default 10), filters of the rows handed over */
    const heapwise_snapshot_t* base; /* NULL: a snapshot taken when the watch starts */
} heapwise_watch_options;
HEAPWISE_API void heapwise_watch_options_init(heapwise_watch_options* o);

/* Starts checking on a thread of its own; fn runs on that thread. */
HEAPWISE_API heapwise_status heapwise_detector_watch(heapwise_detector_t* det,
                                                     const heapwise_watch_options* o,
                                                     heapwise_watch_fn fn, void* user,
                                                     heapwise_watch_t** out);
/* Checks and callbacks made so far. */
HEAPWISE_API heapwise_status heapwise_watch_counts(const heapwise_watch_t* w, uint64_t* checks,
                                                   uint64_t* alerts);
/* Stops the watch; waits for a running callback unless called from inside it. NULL is fine. */
HEAPWISE_API void heapwise_watch_stop(heapwise_watch_t* w);

#ifdef __cplusplus
}
#endif

#endif /* HEAPWISE_LEAK_DETECTOR_H */
