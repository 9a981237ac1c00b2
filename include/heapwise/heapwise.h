/* heapwise's C interface, for C, C++ and Python (ctypes) programs.
 *
 * Tracer markers: heapwise_snapshot("label") writes a snapshot marker into the trace when the
 * program runs under the heapwise tracer (LD_PRELOAD=libheapwise_preload.so, or `heapwise record`),
 * and does nothing otherwise. The tracer's entry points are weak references, so a program that
 * uses them needs neither the tracer nor libheapwise to link or run.
 * From Python: ctypes.CDLL(None).heapwise_tracer_snapshot(b"label"), when the tracer is loaded. */
#ifndef HEAPWISE_HEAPWISE_H
#define HEAPWISE_HEAPWISE_H

#include <stddef.h>
#include <stdint.h>

#include "heapwise/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by libheapwise_preload.so only. Returns 0 when the marker was recorded, -1 when tracing
 * is off (stopped after an error, or in a child that does not trace). */
extern int heapwise_tracer_snapshot(const char* label) __attribute__((weak));
/* 1 while the tracer records this process, 0 otherwise. */
extern int heapwise_tracer_active(void) __attribute__((weak));

/* Records a snapshot marker labelled `label` when the tracer is present; returns 0 when it was
 * recorded, -1 otherwise. Safe to call from any thread. */
static inline int heapwise_snapshot(const char* label) {
    return heapwise_tracer_snapshot ? heapwise_tracer_snapshot(label) : -1;
}

/* 1 when this process runs under the heapwise tracer and it is recording. */
static inline int heapwise_tracing(void) {
    return heapwise_tracer_active ? heapwise_tracer_active() : 0;
}

/* ==== libheapwise's C ABI ====================================================================
 * Link with -lheapwise. Every call returns a heapwise_status (or a documented plain value), never
 * throws, and never takes ownership of a caller's buffer. After a call returned an error status,
 * heapwise_last_error() describes it. Handles are opaque and thread-safe: one heapwise_cache_t may
 * be used from many threads at once; destroy it once, after every other call on it returned.
 * Sizes are bytes. docs/api-c.md has the reference and examples. */

typedef enum heapwise_status {
    HEAPWISE_OK = 0,
    HEAPWISE_NOT_FOUND = 1, /* no such key (not an error: heapwise_last_error() is unchanged) */
    HEAPWISE_TOO_SMALL = 2, /* a caller's buffer is too small; the needed size was written */
    HEAPWISE_EINVAL = -1,   /* a bad argument: null pointer, zero size, malformed option */
    HEAPWISE_ENOMEM = -2,   /* out of memory */
    HEAPWISE_EIO = -3,      /* a file or directory could not be created, read or written */
    HEAPWISE_ETOOBIG = -4,  /* a value larger than the cache's whole budget was refused */
    HEAPWISE_ESTATE = -5,   /* the call is not valid in the handle's state */
    HEAPWISE_EINTERNAL = -6 /* an unexpected failure inside the library (a bug: report it) */
} heapwise_status;

/* The message of the last error status returned to this thread ("" if none). Valid until the next
 * failing heapwise call on the same thread. */
HEAPWISE_API const char* heapwise_last_error(void);
/* The errno behind the last error status returned to this thread when a system call caused it
 * (ENOENT for a missing file, ENOSPC, EACCES, ...), 0 otherwise. */
HEAPWISE_API int heapwise_last_errno(void);
/* A short constant name for a status: "HEAPWISE_OK", "HEAPWISE_EIO", ... */
HEAPWISE_API const char* heapwise_status_name(int status);
/* Frees a buffer the library allocated for the caller (heapwise_cache_get_alloc). NULL is fine. */
HEAPWISE_API void heapwise_free(void* p);
/* Bumped on every incompatible change to this ABI; heapwise_abi_version() returns the library's. */
#define HEAPWISE_ABI_VERSION 1
HEAPWISE_API int heapwise_abi_version(void);
/* sizeof the named struct of this header as the library was built ("heapwise_cache_stats"), or 0
 * for an unknown name: lets bindings (ctypes) check their layouts at load time. */
HEAPWISE_API size_t heapwise_struct_size(const char* name);

/* ---- Cache ---------------------------------------------------------------------------------- */

typedef struct heapwise_cache heapwise_cache_t;
/* A reference on a cached value (heapwise_cache_get_shared): the bytes it points at stay valid and
 * unchanged until heapwise_value_release, whatever happens to the cache meanwhile. */
typedef struct heapwise_value heapwise_value_t;

/* What to do with a value larger than the whole memory budget. */
enum { HEAPWISE_OVERSIZE_TO_DISK = 0, HEAPWISE_OVERSIZE_REFUSE = 1 };

/* Why an entry left memory or the cache (heapwise_eviction_event.cause). */
enum {
    HEAPWISE_EVICTED = 0,  /* dropped to stay within a budget */
    HEAPWISE_SPILLED = 1,  /* moved from memory to disk to stay within the memory budget */
    HEAPWISE_EXPIRED = 2,  /* its TTL passed */
    HEAPWISE_REMOVED = 3,  /* erase, clear or cleanup */
    HEAPWISE_REPLACED = 4, /* a set stored a new value under its key */
    HEAPWISE_PRESSURE = 5  /* moved out of memory by a memory limit change or a monitor */
};

/* Seen by a listener during the call only: copy what you keep. */
typedef struct heapwise_eviction_event {
    const char* key; /* not NUL-terminated: key_len bytes */
    size_t key_len;
    int cause;          /* HEAPWISE_EVICTED ... HEAPWISE_PRESSURE */
    int to_disk;        /* 1 when the value is still available from disk afterwards */
    uint64_t bytes;     /* the entry's memory charge, or its file size on disk */
    const char* reason; /* for HEAPWISE_PRESSURE: why ("container usage crossed 85 %") */
    size_t reason_len;
} heapwise_eviction_event;

/* Called after the operation that caused the event, on that operation's thread, never under a
 * cache lock (it may call back into the cache). */
typedef void (*heapwise_eviction_fn)(const heapwise_eviction_event* event, void* user);

typedef struct heapwise_cache_options {
    uint64_t max_memory;     /* bytes of keys, values and per-entry overhead in memory (> 0) */
    uint64_t max_disk;       /* bytes of spill files, oldest removed first; 0 = never spill */
    const char* spill_dir;   /* parent of the private 0700 spill directory; NULL = $TMPDIR/tmp */
    const char* name;        /* names the persistent directory; NULL = "default" */
    int persistent;          /* 1 = keep spill files across runs; revalidated when reopened */
    int oversize;            /* HEAPWISE_OVERSIZE_TO_DISK or HEAPWISE_OVERSIZE_REFUSE */
    uint32_t shards;         /* 0 = chosen from the core count */
    int system_allocator;    /* 1 = values in the system allocator instead of mimalloc */
    uint64_t default_ttl_ms; /* 0 = entries do not expire */
    heapwise_eviction_fn listener; /* NULL = none */
    void* listener_user;
    uint64_t reserved_[4]; /* zero (set by heapwise_cache_options_init) */
} heapwise_cache_options;

/* Flags of heapwise_cache_set and heapwise_cache_set_many. */
enum { HEAPWISE_SET_FORCE_DISK = 1 };

typedef struct heapwise_cache_stats {
    uint64_t items; /* entries in memory and on disk */
    uint64_t memory_items;
    uint64_t memory_bytes; /* as the budget counts them */
    uint64_t disk_items;
    uint64_t disk_bytes;   /* spill file sizes */
    uint64_t memory_limit; /* the effective budget (heapwise_cache_set_memory_limit) */
    uint64_t max_memory;
    uint64_t max_disk;
    uint64_t hits;   /* memory hits plus disk hits */
    uint64_t misses; /* includes corrupt and missing spill files */
    uint64_t disk_hits;
    uint64_t evictions;      /* entries moved out of memory for the budget (spilled or not) */
    uint64_t spills;         /* entries written to disk */
    uint64_t disk_evictions; /* spill files removed by the disk cap */
    uint64_t promotions;     /* disk hits moved back into memory */
    uint64_t expirations;
    uint64_t corrupt;     /* spill files found damaged or missing */
    uint64_t missing;     /* of which missing */
    uint64_t disk_errors; /* failed spill writes */
    int spill_enabled;    /* 0 when off by option or after a disk error */
    int reserved_;
} heapwise_cache_stats;

/* "evicted", "spilled", "expired", "removed", "replaced", "pressure" ("" otherwise). */
HEAPWISE_API const char* heapwise_evict_cause_name(int cause);

HEAPWISE_API void heapwise_cache_options_init(heapwise_cache_options* options);
/* Creates a cache; *out is NULL on failure (EINVAL for a zero budget, EIO when the spill
 * directory cannot be created). */
HEAPWISE_API heapwise_status heapwise_cache_create(const heapwise_cache_options* options,
                                                   heapwise_cache_t** out);
/* Drops every entry, removes the spill directory (unless persistent) and frees the handle. */
HEAPWISE_API void heapwise_cache_destroy(heapwise_cache_t* cache);

/* Keys are any bytes (key_len may be 0). ttl_ms = 0: the cache's default_ttl_ms (no expiry by
 * default). The entry fits the budget when the call returns. */
HEAPWISE_API heapwise_status heapwise_cache_set(heapwise_cache_t* cache, const void* key,
                                                size_t key_len, const void* value, size_t value_len,
                                                unsigned flags, uint64_t ttl_ms);
/* Copies the value into buf. OK: *value_len is its size. TOO_SMALL: *value_len is the size
 * needed and buf is untouched (the lookup counted as a hit). NOT_FOUND: *value_len is 0. */
HEAPWISE_API heapwise_status heapwise_cache_get(heapwise_cache_t* cache, const void* key,
                                                size_t key_len, void* buf, size_t buf_cap,
                                                size_t* value_len);
/* Like heapwise_cache_get into a buffer the library allocates; free it with heapwise_free. On
 * OK *value is non-NULL even for an empty value. */
HEAPWISE_API heapwise_status heapwise_cache_get_alloc(heapwise_cache_t* cache, const void* key,
                                                      size_t key_len, void** value,
                                                      size_t* value_len);
/* One lookup, no retry: copies the value into buf when it fits (*value_alloc = NULL), otherwise
 * returns it in a new library buffer *value_alloc (free it with heapwise_free). */
HEAPWISE_API heapwise_status heapwise_cache_get_into(heapwise_cache_t* cache, const void* key,
                                                     size_t key_len, void* buf, size_t buf_cap,
                                                     void** value_alloc, size_t* value_len);
/* One lookup, no copy of a large value: copies the value into buf when it fits (*value = NULL,
 * *data = buf), otherwise returns in *value a reference on the cached value itself and in *data
 * its bytes, valid until heapwise_value_release(*value) (even if the entry is evicted, replaced
 * or erased, or the cache destroyed meanwhile). *value_len is the value's length either way. */
HEAPWISE_API heapwise_status heapwise_cache_get_shared(heapwise_cache_t* cache, const void* key,
                                                       size_t key_len, void* buf, size_t buf_cap,
                                                       size_t* value_len, heapwise_value_t** value,
                                                       const void** data);
/* Drops a reference from heapwise_cache_get_shared, from any thread. NULL is fine. */
HEAPWISE_API void heapwise_value_release(heapwise_value_t* value);
/* OK when the key was present (and is now gone), NOT_FOUND otherwise. */
HEAPWISE_API heapwise_status heapwise_cache_erase(heapwise_cache_t* cache, const void* key,
                                                  size_t key_len);
/* OK when the key is present (memory or disk), NOT_FOUND otherwise; touches no statistics. */
HEAPWISE_API heapwise_status heapwise_cache_contains(heapwise_cache_t* cache, const void* key,
                                                     size_t key_len);
HEAPWISE_API heapwise_status heapwise_cache_clear(heapwise_cache_t* cache);
HEAPWISE_API heapwise_status heapwise_cache_stats_get(heapwise_cache_t* cache,
                                                      heapwise_cache_stats* out);
/* Drops everything and removes the spill directory; the handle stays usable. */
HEAPWISE_API heapwise_status heapwise_cache_cleanup(heapwise_cache_t* cache);
/* Changes the memory budget (> 0; a value above the max_memory the cache was created with is
 * clamped to it); entries over it are spilled (or dropped when spilling is off) before it
 * returns. *moved (may be NULL) receives the bytes moved out of memory. */
HEAPWISE_API heapwise_status heapwise_cache_set_memory_limit(heapwise_cache_t* cache,
                                                             uint64_t max_memory, uint64_t* moved);
/* Moves the coldest `fraction` (0..1] of the bytes in memory to disk (or drops them when spilling
 * is off); fraction 1 moves everything. *moved (may be NULL) receives the bytes moved. */
HEAPWISE_API heapwise_status heapwise_cache_spill(heapwise_cache_t* cache, double fraction,
                                                  uint64_t* moved);
/* The private spill directory as a NUL-terminated string ("" when there is none). TOO_SMALL:
 * *len is the size needed including the NUL. */
HEAPWISE_API heapwise_status heapwise_cache_spill_path(heapwise_cache_t* cache, char* buf,
                                                       size_t buf_cap, size_t* len);

/* Batch calls: one crossing for n keys. Keys are packed end to end in `keys`; key i has
 * key_lens[i] bytes. */

/* Values found are copied end to end into buf; for key i, statuses[i] is OK (value at
 * buf + offsets[i], value_lens[i] bytes), NOT_FOUND, TOO_SMALL (did not fit: value_lens[i] is its
 * size) or an error. allocs (may be NULL): a value that does not fit in buf is returned instead in
 * a library buffer allocs[i] (free each with heapwise_free) with status OK; allocs[i] is NULL for
 * the others. Each key is looked up exactly once. *needed (may be NULL) receives the bytes all
 * found values take. Returns OK when every found value was delivered, TOO_SMALL when some did
 * not fit (allocs NULL), or the first item's error. */
HEAPWISE_API heapwise_status heapwise_cache_get_many(heapwise_cache_t* cache, size_t n,
                                                     const void* keys, const size_t* key_lens,
                                                     void* buf, size_t buf_cap, size_t* offsets,
                                                     size_t* value_lens, int* statuses,
                                                     void** allocs, size_t* needed);
/* Values are packed like keys. statuses (may be NULL) receives each item's status. Every item is
 * attempted; returns OK or the first item's error. */
HEAPWISE_API heapwise_status heapwise_cache_set_many(heapwise_cache_t* cache, size_t n,
                                                     const void* keys, const size_t* key_lens,
                                                     const void* values, const size_t* value_lens,
                                                     unsigned flags, uint64_t ttl_ms,
                                                     int* statuses);

/* ---- Memory statistics ---------------------------------------------------------------------- */

/* Which parts a sample reads (heapwise_memory_stats_get's `parts`); smaps is the costly one. */
enum {
    HEAPWISE_STATS_SYSTEM = 1,  /* /proc/meminfo */
    HEAPWISE_STATS_PROCESS = 2, /* /proc/self/status: rss, peak */
    HEAPWISE_STATS_SMAPS = 4,   /* /proc/self/smaps_rollup: pss, uss */
    HEAPWISE_STATS_CGROUP = 8,  /* the memory cgroup's limit and usage */
    HEAPWISE_STATS_ALL = 15
};

/* Each figure has a source (an int; heapwise_source_name gives "cgroup_v2_max", "none", ...);
 * source 0 ("none") means the figure is unknown. */
typedef struct heapwise_memory_stats {
    /* The headline: usage against the limit that will actually stop this process (a cgroup limit
     * below MemTotal, else MemTotal). */
    uint64_t limit;
    uint64_t used;
    double percent;
    int limit_source;
    int used_source;
    /* The system (/proc/meminfo). */
    uint64_t system_total;
    uint64_t system_available;
    uint64_t system_used;
    double system_percent;
    int system_available_source;
    /* This process. */
    uint64_t process_rss;
    uint64_t process_pss;  /* proportional set size */
    uint64_t process_uss;  /* unique set size: private pages */
    uint64_t process_peak; /* high-water mark of rss */
    int process_rss_source;
    int process_pss_source;
    int process_uss_source;
    int process_peak_source;
    /* The memory cgroup: version 0 (none), 1 or 2; limit 0 when no level sets one; limit_depth
     * counts levels above the process's own cgroup (-1 when there is no limit). */
    int cgroup_version;
    uint64_t container_limit;
    uint64_t container_usage;     /* as the kernel's reclaim counts it (minus inactive file) */
    uint64_t container_usage_raw; /* the charge itself */
    int container_limit_source;
    int container_limit_depth;
    int container_usage_source;
    int reserved_[5];
} heapwise_memory_stats;

/* One sample of this process's memory figures (parts 0 = all). */
HEAPWISE_API heapwise_status heapwise_memory_stats_get(unsigned parts, heapwise_memory_stats* out);
/* The same, reading every file under root (fixture trees in tests; NULL or "" = the real one). */
HEAPWISE_API heapwise_status heapwise_memory_stats_read(const char* root, unsigned parts,
                                                        heapwise_memory_stats* out);
/* "none", "meminfo_available", "cgroup_v2_max", ... ("" for an unknown value). */
HEAPWISE_API const char* heapwise_source_name(int source);

/* ---- Memory monitor ------------------------------------------------------------------------- */

typedef struct heapwise_monitor heapwise_monitor_t;

enum { HEAPWISE_LEVEL_NORMAL = 0, HEAPWISE_LEVEL_WARNING = 1, HEAPWISE_LEVEL_CRITICAL = 2 };
/* Which figure thresholds apply to: the headline (cgroup usage against its limit, else the
 * system's), this process's RSS against the same limit, or the system's used memory. */
enum { HEAPWISE_METRIC_CONTAINER = 0, HEAPWISE_METRIC_PROCESS = 1, HEAPWISE_METRIC_SYSTEM = 2 };
enum { HEAPWISE_MODE_POLLING = 0, HEAPWISE_MODE_PSI = 1 };

/* A memory source replacing the real sampler (tests, simulations): fill *out (zeroed before the
 * call). Called on the monitor's thread and on the thread calling heapwise_monitor_check. */
typedef void (*heapwise_memory_source_fn)(heapwise_memory_stats* out, void* user);
/* Called on the monitor's thread when the level changes (and again every repeat_ms while it
 * stays above normal). `stats` is valid during the call only. */
typedef void (*heapwise_level_fn)(int level, const heapwise_memory_stats* stats, void* user);

typedef struct heapwise_monitor_options {
    double warning;         /* percent of the metric's limit; 0 < warning <= critical */
    double critical;        /* percent; <= 100 */
    uint64_t warning_bytes; /* non-zero: thresholds are absolute bytes instead of percent */
    uint64_t critical_bytes;
    uint64_t interval_ms;      /* between timed samples; > 0 */
    int metric;                /* HEAPWISE_METRIC_* */
    int psi;                   /* 1 = wake early on a PSI trigger where the kernel allows */
    double hysteresis;         /* percent points below a threshold before its level is left */
    uint64_t hysteresis_bytes; /* the same for byte thresholds */
    uint64_t repeat_ms;        /* repeat callbacks this often while above normal; 0 = once */
    uint64_t window;           /* samples kept for heapwise_monitor_window; > 0 */
    const char* psi_trigger;   /* NULL = the library's default ("some 150000 1000000") */
    int manual_clock;          /* 1 = time moves only through heapwise_monitor_advance */
    int reserved_i_;
    heapwise_memory_source_fn source; /* NULL = the real memory statistics */
    void* source_user;
    uint64_t reserved_[4];
} heapwise_monitor_options;

/* One reading: the sample, the metric's bytes and limit, its percent and the level of this
 * reading alone (without hysteresis). */
typedef struct heapwise_reading {
    heapwise_memory_stats stats;
    uint64_t bytes;
    uint64_t limit;
    double percent;
    int level;
    int reserved_;
} heapwise_reading;

/* The rolling window of the metric's bytes; percentiles are nearest-rank. */
typedef struct heapwise_window_stats {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    double mean;
    uint64_t p50;
    uint64_t p90;
    uint64_t p99;
    double slope;   /* least-squares trend, bytes per second */
    int64_t growth; /* newest minus oldest sample, bytes */
    double seconds; /* from the oldest to the newest sample */
    double mean_percent;
    double last_percent;
} heapwise_window_stats;

/* What heapwise_monitor_attach does to a cache (NULL options = the defaults shown). */
typedef struct heapwise_attach_options {
    double spill_fraction; /* warning: spill this part of the cache's memory (0.25) */
    int trim;              /* critical: spill all, then malloc_trim and mi_collect (1) */
    int reserved_i_;
    double regrow_step;          /* back at normal: regrow the limit by this part of max (0.25) */
    uint64_t regrow_interval_ms; /* at most once per this interval (10000) */
} heapwise_attach_options;

HEAPWISE_API void heapwise_monitor_options_init(heapwise_monitor_options* options);
HEAPWISE_API void heapwise_attach_options_init(heapwise_attach_options* options);
/* Creates a monitor and starts its sampling thread. EINVAL for bad options. */
HEAPWISE_API heapwise_status heapwise_monitor_create(const heapwise_monitor_options* options,
                                                     heapwise_monitor_t** out);
/* Stops the thread (waiting for a running callback), detaches every cache, frees the handle. */
HEAPWISE_API void heapwise_monitor_destroy(heapwise_monitor_t* monitor);
/* Subscribes fn; *id (for heapwise_monitor_unsubscribe) is never 0. */
HEAPWISE_API heapwise_status heapwise_monitor_subscribe(heapwise_monitor_t* monitor,
                                                        heapwise_level_fn fn, void* user,
                                                        uint64_t* id);
/* Unsubscribes; waits for a running call of that callback to return (unless called from it).
 * NOT_FOUND for an unknown id. */
HEAPWISE_API heapwise_status heapwise_monitor_unsubscribe(heapwise_monitor_t* monitor, uint64_t id);
/* Makes the cache shrink under pressure until detached or either handle is destroyed. */
HEAPWISE_API heapwise_status heapwise_monitor_attach(heapwise_monitor_t* monitor,
                                                     heapwise_cache_t* cache,
                                                     const heapwise_attach_options* options);
HEAPWISE_API heapwise_status heapwise_monitor_detach(heapwise_monitor_t* monitor,
                                                     heapwise_cache_t* cache);
/* A fresh sample on the caller's thread; changes no monitor state. */
HEAPWISE_API heapwise_status heapwise_monitor_check(heapwise_monitor_t* monitor,
                                                    heapwise_reading* out);
/* The current level, with hysteresis (HEAPWISE_LEVEL_*), or a negative status. */
HEAPWISE_API int heapwise_monitor_level(heapwise_monitor_t* monitor);
HEAPWISE_API heapwise_status heapwise_monitor_window(heapwise_monitor_t* monitor,
                                                     heapwise_window_stats* out);
/* HEAPWISE_MODE_POLLING or HEAPWISE_MODE_PSI; detail (may be NULL) receives the pressure file
 * armed or why polling is used, NUL-terminated (truncated to detail_cap). */
HEAPWISE_API int heapwise_monitor_mode(heapwise_monitor_t* monitor, char* detail,
                                       size_t detail_cap);
/* Samples taken by the monitor's thread so far. */
HEAPWISE_API uint64_t heapwise_monitor_samples(heapwise_monitor_t* monitor);
/* One line: level, figures, sources, window trend and mode. TOO_SMALL: *len is the size needed
 * including the NUL. */
HEAPWISE_API heapwise_status heapwise_monitor_stats_line(heapwise_monitor_t* monitor, char* buf,
                                                         size_t buf_cap, size_t* len);
/* Writes the stats line to stderr. */
HEAPWISE_API heapwise_status heapwise_monitor_log_stats(heapwise_monitor_t* monitor);
/* With manual_clock: moves the monitor's time forward and returns once the monitor thread has
 * handled every sample due (and its callbacks returned). ESTATE without manual_clock. */
HEAPWISE_API heapwise_status heapwise_monitor_advance(heapwise_monitor_t* monitor, uint64_t ms);
/* "normal", "warning", "critical" ("" otherwise). */
HEAPWISE_API const char* heapwise_level_name(int level);

/* ---- force_cleanup --------------------------------------------------------------------------- */

/* One step and what it gave back, measured as RSS before minus RSS after (negative when RSS grew
 * meanwhile); `reported` is the step's own figure where it has one (bytes the caches moved out
 * of memory), else 0. */
typedef struct heapwise_cleanup_step {
    char name[32]; /* "shrink_caches", "malloc_trim", "mi_collect" (NUL-terminated) */
    int64_t bytes;
    uint64_t reported;
} heapwise_cleanup_step;

typedef struct heapwise_cleanup_summary {
    int64_t total; /* RSS before the first step minus RSS after the last */
    uint64_t rss_before;
    uint64_t rss_after;
    uint64_t steps; /* how many steps ran (may exceed the caller's array) */
} heapwise_cleanup_summary;

/* Shrinks every live cache (spilling to disk where it can), trims malloc and mimalloc, and
 * measures each step. Writes up to cap steps (steps may be NULL with cap 0); summary may be
 * NULL. TOO_SMALL when more steps ran than fit (everything still ran). */
HEAPWISE_API heapwise_status heapwise_force_cleanup(heapwise_cleanup_step* steps, size_t cap,
                                                    heapwise_cleanup_summary* summary);

/* ---- Streaming a file in chunks ----------------------------------------------------------------
 */

typedef struct heapwise_reader heapwise_reader_t;

/* Opens path for reading in chunks of chunk_size bytes through one buffer, keeping the file out
 * of the page cache behind the read position. EINVAL for chunk_size 0; EIO (with
 * heapwise_last_errno) when the file cannot be opened or is a directory. */
HEAPWISE_API heapwise_status heapwise_reader_open(const char* path, size_t chunk_size,
                                                  heapwise_reader_t** out);
/* The next chunk: *data points into the reader's buffer (valid until the next call or close),
 * *len is chunk_size except for the last chunk, and 0 at the end of the file. */
HEAPWISE_API heapwise_status heapwise_reader_next(heapwise_reader_t* reader, const void** data,
                                                  size_t* len);
/* Bytes read so far and bytes the page cache was told to drop. Either pointer may be NULL. */
HEAPWISE_API heapwise_status heapwise_reader_progress(heapwise_reader_t* reader,
                                                      uint64_t* bytes_read, uint64_t* dropped);
HEAPWISE_API void heapwise_reader_close(heapwise_reader_t* reader);

#ifdef __cplusplus
}
#endif

#endif /* HEAPWISE_HEAPWISE_H */
