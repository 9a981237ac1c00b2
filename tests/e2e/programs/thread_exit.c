/* Threads that allocate and die while the main thread lives on: each of THREADS threads allocates
 * 100 blocks of 3000+index bytes in thread_work(), frees the even ones and exits. Main joins them,
 * prints "joined" and then sleeps (the test SIGKILLs it), so the dying threads' events can only be
 * in the trace if their rings were drained when they exited, not at process exit.
 * Prints "tid INDEX TID" per thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

enum { kThreads = 6, kBlocks = 100 };

__attribute__((noinline)) void thread_work(int index) {
    void* blocks[kBlocks];
    for (int i = 0; i < kBlocks; ++i) blocks[i] = malloc(3000 + (size_t)index);
    for (int i = 0; i < kBlocks; i += 2) free(blocks[i]);
    __asm__ volatile("" ::: "memory");
}

static void* thread_main(void* arg) {
    const int index = (int)(intptr_t)arg;
    report_line("tid %d %d", index, (int)gettid());
    thread_work(index);
    return NULL;
}

int main(void) {
    report_exe();
    report_range("thread_work", (report_fn)thread_work);
    for (int t = 0; t < kThreads; ++t) {
        pthread_t th;
        if (pthread_create(&th, NULL, thread_main, (void*)(intptr_t)t) != 0) return 2;
        pthread_join(th, NULL);
    }
    report_line("joined");
    for (int i = 0; i < 3000; ++i) { /* at most 30 s: the test kills it long before */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}
