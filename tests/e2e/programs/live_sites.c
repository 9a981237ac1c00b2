/* The tracer's live view from a real program, through the weak references of tracer_live.h.
 * argv[1]:
 *   exact   - keep_site: 10 x 100 bytes kept; churn_site: 5 x 1000 freed; grow_site: a block
 *             realloc'ed 64 -> 4096 (kept); 3 blocks inside heapwise_tracer_internal_begin/_end;
 *             snapshot "live-1"; then frees keep_site's blocks and snapshots "live-2";
 *   threads - 3 threads allocate (keep 2 of 3) while the main thread snapshots "mt-0".."mt-9";
 *   sampled - 2000 x 512 bytes and 20 x 1 MiB kept, snapshot "sampled" (run HEAPWISE_MODE=sampled);
 *   late    - one block before heapwise_tracer_live_enable(), freed after it; one block after;
 *             snapshot "late" (run without HEAPWISE_LIVE);
 *   exit    - 300,000 blocks kept, then all freed right before returning from main, so the
 *             writer is still aggregating while exit runs the shim's static destructors;
 *   fork    - enables the view, snapshots "parent", starts a thread that snapshots in a loop (so
 *             one may be waiting at the fork), forks; the child allocates 4 x 333 bytes and
 *             snapshots "child". Prints "looped N" for the thread's successful snapshots.
 * Prints "weak N" (1: the entry points resolved), "rc LABEL RC ERRNO", for each snapshot
 * "snap LABEL PID NSITES LIVE_BYTES LIVE_COUNT SINCE_NONZERO SAMPLE_INTERVAL" and per site
 * "site LABEL STACK LIVE_BYTES LIVE_COUNT ALLOCS BYTES_ALLOCATED", for one stack of keep_site
 * "frames STACK DEPTH F0 F1 ...", and the ranges of the site functions. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <heapwise/tracer_live.h>

#include "report.h"

static void snap(const char* label, int print_frames_of_first_keep) {
    heapwise_live_snapshot s;
    memset(&s, 0, sizeof s);
    int rc = heapwise_tracer_live_snapshot(label, &s);
    report_line("rc %s %d %d", label, rc, rc == 0 ? 0 : errno);
    if (rc != 0) return;
    report_line("snap %s %u %lu %lu %lu %d %lu", label, s.pid, (unsigned long)s.nsites, (unsigned long)s.live_bytes,
                (unsigned long)s.live_count, s.since_ns != 0, (unsigned long)s.sample_interval);
    for (uint64_t i = 0; i < s.nsites; ++i) {
        const heapwise_live_site* x = &s.sites[i];
        report_line("site %s %u %lu %lu %lu %lu", label, x->stack, (unsigned long)x->live_bytes,
                    (unsigned long)x->live_count, (unsigned long)x->allocs, (unsigned long)x->bytes_allocated);
        if (print_frames_of_first_keep && x->allocs == 10 && x->bytes_allocated == 1000) {
            uintptr_t f[1024];
            int n = heapwise_tracer_stack_frames(x->stack, f, 1024);
            char line[400];
            int len = snprintf(line, sizeof line, "frames %u %d", x->stack, n);
            for (int k = 0; k < n && k < 16 && len < (int)sizeof line - 24; ++k) len += snprintf(line + len, sizeof line - (size_t)len, " 0x%lx", (unsigned long)f[k]);
            report_line("%s", line);
        }
    }
    heapwise_tracer_live_release(&s);
}

__attribute__((noinline)) void* keep_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void* churn_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void* grow_site(void* p, size_t n) { return realloc(p, n); }
__attribute__((noinline)) void* thread_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void* small_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void* big_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void* child_site(size_t n) { return malloc(n); }

static void* worker(void* arg) {
    (void)arg;
    void* kept[3000];
    int nk = 0;
    for (int i = 0; i < 4500; ++i) {
        void* p = thread_site(48);
        if (i % 3 == 2) free(p);
        else kept[nk++] = p;
    }
    for (int i = 0; i < nk; ++i) free(kept[i]);
    return NULL;
}

static int run_exact(void) {
    void* keep[10];
    for (int i = 0; i < 10; ++i) keep[i] = keep_site(100);
    for (int i = 0; i < 5; ++i) free(churn_site(1000));
    void* grown = grow_site(NULL, 64);
    grown = grow_site(grown, 4096);
    int token = heapwise_tracer_internal_begin();
    void* own[3];
    for (int i = 0; i < 3; ++i) own[i] = keep_site(7777);
    heapwise_tracer_internal_end(token);
    snap("live-1", 1);
    for (int i = 0; i < 3; ++i) free(own[i]);
    for (int i = 0; i < 10; ++i) free(keep[i]);
    snap("live-2", 0);
    free(grown);
    return 0;
}

static int run_threads(void) {
    pthread_t t[3];
    for (int i = 0; i < 3; ++i) pthread_create(&t[i], NULL, worker, NULL);
    char label[16];
    for (int k = 0; k < 10; ++k) {
        snprintf(label, sizeof label, "mt-%d", k);
        snap(label, 0);
        usleep(1000);
    }
    for (int i = 0; i < 3; ++i) pthread_join(t[i], NULL);
    return 0;
}

static int run_sampled(void) {
    static void* small[2000];
    static void* big[20];
    for (int i = 0; i < 2000; ++i) small[i] = small_site(512);
    for (int i = 0; i < 20; ++i) big[i] = big_site(1 << 20);
    snap("sampled", 0);
    for (int i = 0; i < 2000; ++i) free(small[i]);
    for (int i = 0; i < 20; ++i) free(big[i]);
    return 0;
}

static int run_late(void) {
    void* early = keep_site(100);
    report_line("enable %d", heapwise_tracer_live_enable());
    report_line("enable-again %d", heapwise_tracer_live_enable());
    free(early);
    void* late = churn_site(1000);
    snap("late", 0);
    free(late);
    return 0;
}

static int run_exit(void) {
    enum { kBlocks = 300000 };
    static void* blocks[kBlocks];
    for (int i = 0; i < kBlocks; ++i) blocks[i] = keep_site(32);
    for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
    return 0;
}

static volatile int g_stop_loop;

static void* snapshot_loop(void* arg) {
    long ok = 0;
    while (!g_stop_loop) {
        heapwise_live_snapshot s;
        if (heapwise_tracer_live_snapshot("loop", &s) == 0) {
            ++ok;
            heapwise_tracer_live_release(&s);
        }
    }
    *(long*)arg = ok;
    return NULL;
}

static int run_fork(void) {
    report_line("enable %d", heapwise_tracer_live_enable());
    snap("parent", 0);
    long looped = 0;
    pthread_t t;
    pthread_create(&t, NULL, snapshot_loop, &looped);
    usleep(20000);
    pid_t pid = fork();
    if (pid == 0) {
        void* p[4];
        for (int i = 0; i < 4; ++i) p[i] = child_site(333);
        snap("child", 0);
        for (int i = 0; i < 4; ++i) free(p[i]);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    g_stop_loop = 1;
    pthread_join(t, NULL);
    report_line("child-status %d", WIFEXITED(status) ? WEXITSTATUS(status) : 100);
    report_line("looped %ld", looped);
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    report_range("keep_site", (report_fn)keep_site);
    report_range("churn_site", (report_fn)churn_site);
    report_range("grow_site", (report_fn)grow_site);
    report_range("thread_site", (report_fn)thread_site);
    report_range("small_site", (report_fn)small_site);
    report_range("big_site", (report_fn)big_site);
    report_range("child_site", (report_fn)child_site);
    report_exe();
    const int weak = heapwise_tracer_live_snapshot != NULL && heapwise_tracer_live_enable != NULL &&
                     heapwise_tracer_live_release != NULL && heapwise_tracer_stack_frames != NULL &&
                     heapwise_tracer_internal_begin != NULL && heapwise_tracer_internal_end != NULL;
    report_line("weak %d", weak);
    if (!weak) return 0;
    if (strcmp(argv[1], "exact") == 0) return run_exact();
    if (strcmp(argv[1], "threads") == 0) return run_threads();
    if (strcmp(argv[1], "sampled") == 0) return run_sampled();
    if (strcmp(argv[1], "late") == 0) return run_late();
    if (strcmp(argv[1], "fork") == 0) return run_fork();
    if (strcmp(argv[1], "exit") == 0) return run_exit();
    return 2;
}
