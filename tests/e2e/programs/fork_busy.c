/* fork() while another thread is busy allocating (it may hold any tracer lock, and the writer may
 * be mid-write at that moment). Each of 5 children allocates 7 blocks of 777 bytes in
 * child_work(), frees 3, reports whether it is traced, and exits; the parent waits for each.
 * Prints "child PID STATUS" per child and "parent_allocs N" (blocks busy() made). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <heapwise/heapwise.h>

#include "report.h"

enum { kChildren = 5 };
static atomic_int stop;
static atomic_ulong busy_allocs;

__attribute__((noinline)) void* busy(void* arg) {
    (void)arg;
    void* keep[16] = {0};
    unsigned long n = 0;
    while (!atomic_load(&stop)) {
        free(keep[n % 16]);
        keep[n % 16] = malloc(64 + n % 512);
        ++n;
    }
    for (int i = 0; i < 16; ++i) free(keep[i]);
    atomic_store(&busy_allocs, n);
    return NULL;
}

__attribute__((noinline)) void child_work(void) {
    void* b[7];
    for (int i = 0; i < 7; ++i) b[i] = malloc(777);
    for (int i = 0; i < 3; ++i) free(b[i]);
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    report_exe();
    report_range("child_work", (report_fn)child_work);
    report_range("busy", (report_fn)busy);
    pthread_t th;
    if (pthread_create(&th, NULL, busy, NULL) != 0) return 2;
    for (int c = 0; c < kChildren; ++c) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        const pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            child_work();
            report_line("child_tracing %d %d", (int)getpid(), heapwise_tracing());
            exit(0);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) return 4;
        report_line("child %d %d", (int)pid, status);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    report_line("parent_allocs %lu", atomic_load(&busy_allocs));
    report_line("parent_tracing %d", heapwise_tracing());
    return 0;
}
