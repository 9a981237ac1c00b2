/* Ends in the way argv[1] names after work() allocated 3 blocks of 4242 bytes (leaked):
 * return | exit | _exit | abort | segv (a real invalid write) | spin. "spin" allocates in a loop
 * (block i is 100 + i % 1000 bytes, made in spin(), all but every 64th freed), prints
 * "t1 N" once it has made N blocks in its first second, and runs until killed (30 s at most). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

__attribute__((noinline)) void work(void) {
    for (int i = 0; i < 3; ++i) {
        void* volatile p = malloc(4242);
        (void)p;
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void spin(void) {
    const double start = now_s();
    int reported = 0;
    for (uint64_t i = 0;; ++i) {
        void* p = malloc(100 + i % 1000);
        if ((i & 63) != 0) free(p);
        if ((i & 255) == 0) {
            const double t = now_s() - start;
            if (!reported && t >= 1.0) {
                report_line("t1 %llu", (unsigned long long)(i + 1));
                reported = 1;
            }
            if (t > 30.0) _exit(9);
        }
    }
}

static int* volatile nowhere;

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const char* how = argv[1];
    report_exe();
    report_range("work", (report_fn)work);
    report_range("spin", (report_fn)spin);
    work();
    report_line("ready");
    if (strcmp(how, "return") == 0) return 0;
    if (strcmp(how, "exit") == 0) exit(7);
    if (strcmp(how, "_exit") == 0) _exit(8);
    if (strcmp(how, "abort") == 0) abort();
    if (strcmp(how, "segv") == 0) {
        *nowhere = 1;
        return 10;
    }
    if (strcmp(how, "spin") == 0) spin();
    return 2;
}
