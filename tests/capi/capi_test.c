/* The C ABI (include/heapwise/heapwise.h) exercised from plain C11: the header must compile as C,
 * every call must return the documented status and exact values, bad arguments must give EINVAL
 * with a message (never a crash), and spill files must live in a private directory that
 * destroy removes. Real files in a real temp directory; two threads share one cache. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heapwise/heapwise.h"

static int g_failures;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, heapwise_last_error());                                            \
            g_failures++;                                                                     \
        }                                                                                     \
    } while (0)

#define CHECK_EQ_U(a, b)                                                                  \
    do {                                                                                  \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);    \
        if (a_ != b_) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %llu, %s == %llu\n", __FILE__, \
                    __LINE__, #a, a_, #b, b_);                                            \
            g_failures++;                                                                 \
        }                                                                                 \
    } while (0)

enum { KiB = 1024, MiB = 1024 * 1024 };

static char g_tmp[256];

static void fill(unsigned char* p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; ++i) p[i] = (unsigned char)((i * 131u + seed * 7u) >> 3);
}

static int count_entries(const char* dir) {
    DIR* d = opendir(dir);
    if (d == NULL) return -1;
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    }
    closedir(d);
    return n;
}

static heapwise_cache_t* make_cache(uint64_t mem, uint64_t disk, int oversize) {
    heapwise_cache_options o;
    heapwise_cache_options_init(&o);
    o.max_memory = mem;
    o.max_disk = disk;
    o.spill_dir = g_tmp;
    o.oversize = oversize;
    heapwise_cache_t* c = NULL;
    CHECK(heapwise_cache_create(&o, &c) == HEAPWISE_OK);
    return c;
}

static void test_basics(void) {
    heapwise_cache_t* c = make_cache(MiB, 8 * MiB, HEAPWISE_OVERSIZE_TO_DISK);
    if (c == NULL) return;
    const char key[] = {'k', '\0', 'y'}; /* keys are bytes: an embedded NUL is part of the key */
    CHECK(heapwise_cache_set(c, key, sizeof key, "value", 5, 0, 0) == HEAPWISE_OK);
    CHECK(heapwise_cache_contains(c, key, sizeof key) == HEAPWISE_OK);
    CHECK(heapwise_cache_contains(c, "k", 1) == HEAPWISE_NOT_FOUND);

    char buf[16];
    size_t len = 99;
    CHECK(heapwise_cache_get(c, key, sizeof key, buf, sizeof buf, &len) == HEAPWISE_OK);
    CHECK_EQ_U(len, 5);
    CHECK(memcmp(buf, "value", 5) == 0);
    /* Too small: the needed size comes back and the buffer is untouched. */
    memset(buf, 'x', sizeof buf);
    CHECK(heapwise_cache_get(c, key, sizeof key, buf, 3, &len) == HEAPWISE_TOO_SMALL);
    CHECK_EQ_U(len, 5);
    CHECK(buf[0] == 'x');
    CHECK(heapwise_cache_get(c, "nope", 4, buf, sizeof buf, &len) == HEAPWISE_NOT_FOUND);
    CHECK_EQ_U(len, 0);

    void* p = NULL;
    CHECK(heapwise_cache_get_alloc(c, key, sizeof key, &p, &len) == HEAPWISE_OK);
    CHECK(p != NULL && len == 5 && memcmp(p, "value", 5) == 0);
    heapwise_free(p);
    CHECK(heapwise_cache_set(c, "empty", 5, NULL, 0, 0, 0) == HEAPWISE_OK);
    CHECK(heapwise_cache_get_alloc(c, "empty", 5, &p, &len) == HEAPWISE_OK);
    CHECK(p != NULL && len == 0);
    heapwise_free(p);
    CHECK(heapwise_cache_set(c, NULL, 0, "empty key", 9, 0, 0) == HEAPWISE_OK);
    CHECK(heapwise_cache_get(c, NULL, 0, buf, sizeof buf, &len) == HEAPWISE_OK && len == 9);

    /* get_into: fits → copied, no allocation; larger → a library buffer. */
    unsigned char big[10000];
    fill(big, sizeof big, 3);
    CHECK(heapwise_cache_set(c, "big", 3, big, sizeof big, 0, 0) == HEAPWISE_OK);
    void* alloc = (void*)1;
    CHECK(heapwise_cache_get_into(c, "k\0y", 3, buf, sizeof buf, &alloc, &len) == HEAPWISE_OK);
    CHECK(alloc == NULL && len == 5);
    CHECK(heapwise_cache_get_into(c, "big", 3, buf, sizeof buf, &alloc, &len) == HEAPWISE_OK);
    CHECK(alloc != NULL && len == sizeof big && memcmp(alloc, big, sizeof big) == 0);
    heapwise_free(alloc);

    heapwise_cache_stats s;
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK_EQ_U(s.items, 4);
    CHECK_EQ_U(s.memory_items, 4);
    CHECK_EQ_U(s.hits, 7); /* the TOO_SMALL lookup found the key: a hit */
    CHECK_EQ_U(s.misses, 1);
    CHECK_EQ_U(s.max_memory, MiB);
    CHECK_EQ_U(s.max_disk, 8 * MiB);
    CHECK(s.memory_bytes >= sizeof big + 5 + 9 && s.memory_bytes <= s.max_memory);

    CHECK(heapwise_cache_erase(c, key, sizeof key) == HEAPWISE_OK);
    CHECK(heapwise_cache_erase(c, key, sizeof key) == HEAPWISE_NOT_FOUND);
    CHECK(heapwise_cache_clear(c) == HEAPWISE_OK);
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK_EQ_U(s.items, 0);
    CHECK_EQ_U(s.memory_bytes, 0);
    heapwise_cache_destroy(c);
}

static void test_batch(void) {
    heapwise_cache_t* c = make_cache(MiB, 0, HEAPWISE_OVERSIZE_TO_DISK);
    if (c == NULL) return;
    const char keys[] = "aabbbccccdd"; /* "aa" "bbb" "cccc" "dd" */
    const size_t klens[4] = {2, 3, 4, 2};
    const char values[] = "1234567890";
    const size_t vlens[4] = {1, 2, 3, 4};
    int st[4] = {9, 9, 9, 9};
    CHECK(heapwise_cache_set_many(c, 4, keys, klens, values, vlens, 0, 0, st) == HEAPWISE_OK);
    CHECK(st[0] == 0 && st[1] == 0 && st[2] == 0 && st[3] == 0);

    const char qkeys[] = "ddzzaacccc";
    const size_t qlens[4] = {2, 2, 2, 4};
    char out[8];
    size_t offs[4], lens[4], needed = 0;
    void* allocs[4];
    /* 5 bytes of room: "7890" and "1" fit, "456" does not. */
    heapwise_status r =
        heapwise_cache_get_many(c, 4, qkeys, qlens, out, 5, offs, lens, st, NULL, &needed);
    CHECK(r == HEAPWISE_TOO_SMALL);
    CHECK(st[0] == HEAPWISE_OK && lens[0] == 4 && memcmp(out + offs[0], "7890", 4) == 0);
    CHECK(st[1] == HEAPWISE_NOT_FOUND && lens[1] == 0);
    CHECK(st[2] == HEAPWISE_OK && lens[2] == 1 && memcmp(out + offs[2], "1", 1) == 0);
    CHECK(st[3] == HEAPWISE_TOO_SMALL && lens[3] == 3);
    CHECK_EQ_U(needed, 8);
    r = heapwise_cache_get_many(c, 4, qkeys, qlens, out, 5, offs, lens, st, allocs, &needed);
    CHECK(r == HEAPWISE_OK);
    CHECK(st[3] == HEAPWISE_OK && allocs[3] != NULL && memcmp(allocs[3], "456", 3) == 0);
    CHECK(allocs[0] == NULL && allocs[1] == NULL && allocs[2] == NULL);
    for (int i = 0; i < 4; ++i) heapwise_free(allocs[i]);

    heapwise_cache_stats s;
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK_EQ_U(s.hits, 6); /* each key looked up once per call */
    CHECK_EQ_U(s.misses, 2);
    CHECK(heapwise_cache_get_many(c, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL) ==
          HEAPWISE_OK);
    CHECK(heapwise_cache_get_many(c, 2, qkeys, qlens, out, 8, NULL, lens, st, NULL, NULL) ==
          HEAPWISE_EINVAL);
    heapwise_cache_destroy(c);
}

static int g_spilled, g_pressure;
static void on_evict(const heapwise_eviction_event* e, void* user) {
    (void)user;
    if (e->cause == HEAPWISE_SPILLED && e->to_disk) g_spilled++;
    if (e->cause == HEAPWISE_PRESSURE) g_pressure++;
}

static void test_spill(void) {
    heapwise_cache_options o;
    heapwise_cache_options_init(&o);
    o.max_memory = 64 * KiB;
    o.max_disk = 16 * MiB;
    o.spill_dir = g_tmp;
    o.listener = on_evict;
    heapwise_cache_t* c = NULL;
    CHECK(heapwise_cache_create(&o, &c) == HEAPWISE_OK);
    if (c == NULL) return;
    unsigned char v[8 * KiB], got[8 * KiB];
    char key[16];
    for (unsigned i = 0; i < 32; ++i) {
        fill(v, sizeof v, i);
        int n = snprintf(key, sizeof key, "page%u", i);
        CHECK(heapwise_cache_set(c, key, (size_t)n, v, sizeof v, 0, 0) == HEAPWISE_OK);
    }
    heapwise_cache_stats s;
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK(s.memory_bytes <= 64 * KiB);
    CHECK_EQ_U(s.items, 32);
    CHECK(s.disk_items > 0 && s.spills == s.disk_items);
    CHECK_EQ_U((uint64_t)g_spilled, s.spills);

    char path[512];
    size_t plen = 0;
    CHECK(heapwise_cache_spill_path(c, path, 2, &plen) == HEAPWISE_TOO_SMALL);
    CHECK(heapwise_cache_spill_path(c, path, sizeof path, &plen) == HEAPWISE_OK);
    CHECK(plen == strlen(path) + 1 && strncmp(path, g_tmp, strlen(g_tmp)) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(count_entries(path) > 0);

    for (unsigned i = 0; i < 32; ++i) {
        fill(v, sizeof v, i);
        int n = snprintf(key, sizeof key, "page%u", i);
        size_t len = 0;
        CHECK(heapwise_cache_get(c, key, (size_t)n, got, sizeof got, &len) == HEAPWISE_OK);
        CHECK(len == sizeof v && memcmp(got, v, sizeof v) == 0);
    }
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK(s.disk_hits > 0 && s.memory_bytes <= 64 * KiB);

    /* Pressure: half the budget, then everything to disk; nothing is lost. */
    uint64_t moved = 0;
    CHECK(heapwise_cache_set_memory_limit(c, 32 * KiB, &moved) == HEAPWISE_OK);
    CHECK(moved > 0);
    CHECK(heapwise_cache_spill(c, 1.0, &moved) == HEAPWISE_OK);
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK_EQ_U(s.memory_items, 0); /* disk entries still charge their index to memory_bytes */
    CHECK(s.memory_bytes < 32 * KiB);
    CHECK_EQ_U(s.items, 32);
    CHECK(g_pressure > 0);
    CHECK(heapwise_cache_spill(c, 0.0, &moved) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_set_memory_limit(c, 0, NULL) == HEAPWISE_EINVAL);

    /* force_disk goes straight to a file. */
    CHECK(heapwise_cache_set(c, "forced", 6, "on disk", 7, HEAPWISE_SET_FORCE_DISK, 0) ==
          HEAPWISE_OK);
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK_EQ_U(s.memory_items, 0);
    size_t len = 0;
    CHECK(heapwise_cache_get(c, "forced", 6, got, sizeof got, &len) == HEAPWISE_OK && len == 7);

    heapwise_cache_destroy(c);
    CHECK(stat(path, &st) != 0 && errno == ENOENT);
    CHECK(count_entries(g_tmp) == 0);
}

static void test_bad_input(void) {
    heapwise_cache_options o;
    heapwise_cache_options_init(&o);
    CHECK(o.max_memory > 0 && o.oversize == HEAPWISE_OVERSIZE_TO_DISK && o.listener == NULL);
    heapwise_cache_t* c = (heapwise_cache_t*)1;
    o.max_memory = 0;
    CHECK(heapwise_cache_create(&o, &c) == HEAPWISE_EINVAL);
    CHECK(c == NULL);
    CHECK(strlen(heapwise_last_error()) > 0);
    CHECK(heapwise_cache_create(NULL, &c) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_create(&o, NULL) == HEAPWISE_EINVAL);

    /* A spill directory under a regular file cannot be created. */
    char file[300], sub[320];
    snprintf(file, sizeof file, "%s/plain-file", g_tmp);
    FILE* f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) fclose(f);
    snprintf(sub, sizeof sub, "%s/sub", file);
    heapwise_cache_options_init(&o);
    o.spill_dir = sub;
    CHECK(heapwise_cache_create(&o, &c) == HEAPWISE_EIO);
    CHECK(strstr(heapwise_last_error(), "sub") != NULL);
    unlink(file);
    heapwise_cache_options_init(&o);
    o.oversize = 7;
    CHECK(heapwise_cache_create(&o, &c) == HEAPWISE_EINVAL);

    /* A value larger than the whole budget: refused by option, earlier entries kept. */
    c = make_cache(16 * KiB, 0, HEAPWISE_OVERSIZE_REFUSE);
    if (c == NULL) return;
    static unsigned char huge[64 * KiB];
    CHECK(heapwise_cache_set(c, "small", 5, "kept", 4, 0, 0) == HEAPWISE_OK);
    CHECK(heapwise_cache_set(c, "huge", 4, huge, sizeof huge, 0, 0) == HEAPWISE_ETOOBIG);
    CHECK(heapwise_cache_contains(c, "huge", 4) == HEAPWISE_NOT_FOUND);
    CHECK(heapwise_cache_contains(c, "small", 5) == HEAPWISE_OK);
    CHECK(heapwise_cache_set(c, NULL, 3, "x", 1, 0, 0) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_set(c, "k", 1, "x", 1, 0x80, 0) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_set(c, "k", 1, "x", 1, 0, UINT64_MAX) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_get(c, "k", 1, NULL, 0, NULL) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_stats_get(NULL, NULL) == HEAPWISE_EINVAL);
    CHECK(heapwise_cache_clear(NULL) == HEAPWISE_EINVAL);
    heapwise_cache_destroy(c);
    heapwise_cache_destroy(NULL);

    CHECK(strcmp(heapwise_status_name(HEAPWISE_ETOOBIG), "HEAPWISE_ETOOBIG") == 0);
    CHECK(strcmp(heapwise_evict_cause_name(HEAPWISE_SPILLED), "spilled") == 0);
    CHECK(heapwise_abi_version() == HEAPWISE_ABI_VERSION);
    CHECK(heapwise_struct_size("heapwise_cache_stats") == sizeof(heapwise_cache_stats));
    CHECK(heapwise_struct_size("heapwise_cache_options") == sizeof(heapwise_cache_options));
    CHECK(heapwise_struct_size("heapwise_memory_stats") == sizeof(heapwise_memory_stats));
    CHECK(heapwise_struct_size("no_such_struct") == 0);
}

static void test_memory_stats(void) {
    heapwise_memory_stats m;
    CHECK(heapwise_memory_stats_get(0, &m) == HEAPWISE_OK);
    CHECK(m.system_total > 0 && m.system_available <= m.system_total);
    CHECK(m.limit > 0 && m.used <= m.limit && m.percent > 0.0 && m.percent <= 100.0);
    CHECK(m.process_rss > 0 && m.process_peak >= m.process_rss);
    CHECK(strcmp(heapwise_source_name(m.process_rss_source), "status_vmrss") == 0);
    CHECK(strcmp(heapwise_source_name(0), "none") == 0);
    CHECK(heapwise_memory_stats_get(0x100, &m) == HEAPWISE_EINVAL);

    /* A fixture tree: exact figures from a known meminfo. */
    char dir[300], file[320];
    snprintf(dir, sizeof dir, "%s/proc", g_tmp);
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(file, sizeof file, "%s/meminfo", dir);
    FILE* f = fopen(file, "w");
    CHECK(f != NULL);
    if (f == NULL) return;
    fputs("MemTotal:        1000 kB\nMemFree:          100 kB\nMemAvailable:     250 kB\n", f);
    fclose(f);
    CHECK(heapwise_memory_stats_read(g_tmp, HEAPWISE_STATS_SYSTEM, &m) == HEAPWISE_OK);
    CHECK_EQ_U(m.system_total, 1000 * 1024);
    CHECK_EQ_U(m.system_available, 250 * 1024);
    CHECK_EQ_U(m.system_used, 750 * 1024);
    CHECK(m.system_percent == 75.0);
    CHECK(strcmp(heapwise_source_name(m.system_available_source), "meminfo_available") == 0);
    unlink(file);
    rmdir(dir);
}

/* ---- monitor: a scripted memory source and the manual clock make every crossing exact ---- */

static double g_percent;
static int g_levels[16];
static int g_nlevels;

static void scripted_source(heapwise_memory_stats* out, void* user) {
    (void)user;
    out->limit = 1ull << 30;
    out->used = (uint64_t)(g_percent / 100.0 * (double)(1ull << 30));
    out->percent = g_percent;
}

static void on_level(int level, const heapwise_memory_stats* st, void* user) {
    (void)st;
    (*(int*)user)++;
    if (g_nlevels < 16) g_levels[g_nlevels++] = level;
}

static void test_monitor(void) {
    heapwise_monitor_options o;
    heapwise_monitor_options_init(&o);
    CHECK(o.warning > 0 && o.warning <= o.critical && o.interval_ms > 0 && o.window > 0);
    o.warning = 80.0;
    o.critical = 90.0;
    o.hysteresis = 5.0;
    o.repeat_ms = 0;
    o.interval_ms = 1000;
    o.psi = 0;
    o.manual_clock = 1;
    o.source = scripted_source;
    g_percent = 50.0;
    heapwise_monitor_t* m = NULL;
    CHECK(heapwise_monitor_create(&o, &m) == HEAPWISE_OK);
    if (m == NULL) return;
    int calls = 0;
    uint64_t id = 0;
    CHECK(heapwise_monitor_subscribe(m, on_level, &calls, &id) == HEAPWISE_OK && id != 0);

    heapwise_cache_t* c = make_cache(MiB, 16 * MiB, HEAPWISE_OVERSIZE_TO_DISK);
    if (c == NULL) return;
    unsigned char v[32 * KiB];
    char key[16];
    for (unsigned i = 0; i < 16; ++i) {
        fill(v, sizeof v, i);
        int n = snprintf(key, sizeof key, "k%u", i);
        CHECK(heapwise_cache_set(c, key, (size_t)n, v, sizeof v, 0, 0) == HEAPWISE_OK);
    }
    CHECK(heapwise_monitor_attach(m, c, NULL) == HEAPWISE_OK);

    const double script[] = {85.0, 95.0, 88.0, 84.0, 70.0};
    const int expect_level[] = {HEAPWISE_LEVEL_WARNING, HEAPWISE_LEVEL_CRITICAL,
                                HEAPWISE_LEVEL_CRITICAL, HEAPWISE_LEVEL_WARNING,
                                HEAPWISE_LEVEL_NORMAL};
    heapwise_cache_stats s;
    for (int i = 0; i < 5; ++i) {
        g_percent = script[i];
        CHECK(heapwise_monitor_advance(m, 1000) == HEAPWISE_OK);
        CHECK(heapwise_monitor_level(m) == expect_level[i]);
        if (i == 1) { /* critical: everything went to disk */
            CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
            CHECK_EQ_U(s.memory_items, 0);
            CHECK_EQ_U(s.items, 16);
        }
    }
    CHECK_EQ_U(calls, 4); /* warning, critical, warning, normal: 88 % stays critical */
    CHECK(g_levels[0] == HEAPWISE_LEVEL_WARNING && g_levels[1] == HEAPWISE_LEVEL_CRITICAL &&
          g_levels[2] == HEAPWISE_LEVEL_WARNING && g_levels[3] == HEAPWISE_LEVEL_NORMAL);

    heapwise_reading r;
    g_percent = 91.0;
    CHECK(heapwise_monitor_check(m, &r) == HEAPWISE_OK);
    CHECK(r.level == HEAPWISE_LEVEL_CRITICAL && r.limit == (1ull << 30));
    CHECK(heapwise_monitor_level(m) == HEAPWISE_LEVEL_NORMAL); /* check changes no state */

    heapwise_window_stats w;
    CHECK(heapwise_monitor_window(m, &w) == HEAPWISE_OK);
    CHECK_EQ_U(w.count, 6); /* the sample at start, then one per advance */
    CHECK_EQ_U(w.min, (uint64_t)(0.50 * (double)(1ull << 30)));
    CHECK_EQ_U(w.max, (uint64_t)(0.95 * (double)(1ull << 30)));
    CHECK(w.seconds == 5.0);
    CHECK_EQ_U(heapwise_monitor_samples(m), 6);
    char detail[128];
    CHECK(heapwise_monitor_mode(m, detail, sizeof detail) == HEAPWISE_MODE_POLLING);
    CHECK(strlen(detail) > 0);
    char line[16];
    size_t need = 0;
    CHECK(heapwise_monitor_stats_line(m, line, sizeof line, &need) == HEAPWISE_TOO_SMALL);
    char* big = malloc(need);
    CHECK(big != NULL && heapwise_monitor_stats_line(m, big, need, &need) == HEAPWISE_OK);
    CHECK(big != NULL && strstr(big, "normal") != NULL);
    free(big);

    CHECK(heapwise_monitor_unsubscribe(m, id) == HEAPWISE_OK);
    CHECK(heapwise_monitor_unsubscribe(m, id) == HEAPWISE_NOT_FOUND);
    g_percent = 99.0;
    CHECK(heapwise_monitor_advance(m, 1000) == HEAPWISE_OK);
    CHECK_EQ_U(calls, 4); /* unsubscribed: no more calls */
    CHECK(heapwise_monitor_detach(m, c) == HEAPWISE_OK);
    heapwise_cache_destroy(c);
    heapwise_monitor_destroy(m);

    /* Bad options, and advance without a manual clock. */
    heapwise_monitor_options_init(&o);
    o.warning = 95.0;
    o.critical = 90.0;
    CHECK(heapwise_monitor_create(&o, &m) == HEAPWISE_EINVAL && m == NULL);
    heapwise_monitor_options_init(&o);
    o.metric = 9;
    CHECK(heapwise_monitor_create(&o, &m) == HEAPWISE_EINVAL);
    heapwise_monitor_options_init(&o);
    o.interval_ms = 0;
    CHECK(heapwise_monitor_create(&o, &m) == HEAPWISE_EINVAL);
    heapwise_monitor_options_init(&o);
    o.psi = 0;
    CHECK(heapwise_monitor_create(&o, &m) == HEAPWISE_OK);
    CHECK(heapwise_monitor_advance(m, 1) == HEAPWISE_ESTATE);
    CHECK(heapwise_monitor_subscribe(m, NULL, NULL, &id) == HEAPWISE_EINVAL);
    heapwise_monitor_destroy(m);
    CHECK(strcmp(heapwise_level_name(HEAPWISE_LEVEL_CRITICAL), "critical") == 0);
}

static void test_cleanup_and_reader(void) {
    heapwise_cleanup_step steps[8];
    heapwise_cleanup_summary sum;
    CHECK(heapwise_force_cleanup(steps, 8, &sum) == HEAPWISE_OK);
    CHECK_EQ_U(sum.steps, 3);
    CHECK(strcmp(steps[0].name, "shrink_caches") == 0);
    CHECK(strcmp(steps[1].name, "malloc_trim") == 0);
    CHECK(strcmp(steps[2].name, "mi_collect") == 0);
    CHECK(sum.total == (int64_t)sum.rss_before - (int64_t)sum.rss_after);
    CHECK(heapwise_force_cleanup(steps, 1, NULL) == HEAPWISE_TOO_SMALL);
    CHECK(heapwise_force_cleanup(NULL, 0, &sum) == HEAPWISE_TOO_SMALL);

    char path[320];
    snprintf(path, sizeof path, "%s/data.bin", g_tmp);
    static unsigned char data[10000];
    fill(data, sizeof data, 9);
    FILE* f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL) return;
    CHECK(fwrite(data, 1, sizeof data, f) == sizeof data);
    fclose(f);
    heapwise_reader_t* r = NULL;
    CHECK(heapwise_reader_open(path, 4096, &r) == HEAPWISE_OK);
    if (r == NULL) return;
    size_t total = 0, sizes[4] = {0, 0, 0, 0};
    int n = 0;
    for (;;) {
        const void* p = NULL;
        size_t len = 0;
        CHECK(heapwise_reader_next(r, &p, &len) == HEAPWISE_OK);
        if (len == 0) break;
        CHECK(total + len <= sizeof data && memcmp(p, data + total, len) == 0);
        if (n < 4) sizes[n] = len;
        n++;
        total += len;
    }
    CHECK(n == 3 && sizes[0] == 4096 && sizes[1] == 4096 && sizes[2] == 10000 - 8192);
    const void* p = NULL;
    size_t len = 1;
    CHECK(heapwise_reader_next(r, &p, &len) == HEAPWISE_OK && len == 0); /* stays at the end */
    uint64_t read = 0;
    CHECK(heapwise_reader_progress(r, &read, NULL) == HEAPWISE_OK && read == sizeof data);
    heapwise_reader_close(r);
    unlink(path);

    CHECK(heapwise_reader_open(path, 4096, &r) == HEAPWISE_EIO && r == NULL);
    CHECK(heapwise_last_errno() == ENOENT);
    CHECK(strstr(heapwise_last_error(), "data.bin") != NULL);
    CHECK(heapwise_reader_open(g_tmp, 4096, &r) == HEAPWISE_EIO); /* a directory */
    CHECK(heapwise_reader_open(path, 0, &r) == HEAPWISE_EINVAL);
}

struct worker {
    heapwise_cache_t* cache;
    unsigned id;
    int errors;
};

static void* work(void* arg) {
    struct worker* w = arg;
    char key[32];
    unsigned char v[256], got[256];
    for (unsigned i = 0; i < 2000; ++i) {
        int n = snprintf(key, sizeof key, "t%u-%u", w->id, i % 300);
        fill(v, sizeof v, w->id * 1000 + i % 300);
        if (heapwise_cache_set(w->cache, key, (size_t)n, v, sizeof v, 0, 0) != HEAPWISE_OK) {
            w->errors++;
        }
        size_t len = 0;
        heapwise_status st = heapwise_cache_get(w->cache, key, (size_t)n, got, sizeof got, &len);
        /* Another thread never writes this key, but the budget may have evicted it already. */
        if (st == HEAPWISE_OK && (len != sizeof v || memcmp(got, v, len) != 0)) w->errors++;
        if (st != HEAPWISE_OK && st != HEAPWISE_NOT_FOUND) w->errors++;
    }
    return NULL;
}

static void test_threads(void) {
    heapwise_cache_t* c = make_cache(64 * KiB, 0, HEAPWISE_OVERSIZE_TO_DISK);
    if (c == NULL) return;
    pthread_t t[2];
    struct worker w[2] = {{c, 0, 0}, {c, 1, 0}};
    for (int i = 0; i < 2; ++i) CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    CHECK(w[0].errors == 0 && w[1].errors == 0);
    heapwise_cache_stats s;
    CHECK(heapwise_cache_stats_get(c, &s) == HEAPWISE_OK);
    CHECK(s.memory_bytes <= 64 * KiB);
    CHECK_EQ_U(s.hits + s.misses, 4000);
    heapwise_cache_destroy(c);
}

int main(void) {
    const char* base = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/heapwise-capi-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(g_tmp) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_basics();
    test_batch();
    test_spill();
    test_bad_input();
    test_memory_stats();
    test_monitor();
    test_cleanup_and_reader();
    test_threads();
    rmdir(g_tmp);
    if (g_failures != 0) {
        fprintf(stderr, "capi_test: %d check(s) failed\n", g_failures);
        return 1;
    }
    printf("capi_test: all checks passed\n");
    return 0;
}
