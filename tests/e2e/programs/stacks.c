/* Allocates from known call chains and records, just before each malloc, the program's own view
 * of its stack (glibc backtrace(), i.e. libgcc's unwinder, independent of the tracer's). The test
 * checks that the trace's stack of each block equals that view frame for frame beyond the leaf,
 * that the leaf lies in leaf_alloc, and that no frame lies in the tracer.
 * Prints "alloc I SIZE 0xPTR" and "bt I 0xF0 0xF1 ..." (frames leaf first). Built with frame
 * pointers so the fp unwinder can walk it too. */
#define _GNU_SOURCE
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum { kMaxFrames = 160, kAllocs = 12 };
static void* bt[kAllocs][kMaxFrames];
static int bt_len[kAllocs];
static void* blocks[kAllocs];
static size_t sizes[kAllocs];

/* Records the caller chain, then allocates; backtrace's own leaf frame is inside this function
 * like malloc's return address, so frames from index 1 on must match the tracer's exactly. */
__attribute__((noinline)) void* leaf_alloc(int i, size_t n) {
    bt_len[i] = backtrace(bt[i], kMaxFrames);
    void* p = malloc(n);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep leaf_alloc's frame */
    return p;
}

__attribute__((noinline)) void* recurse(int depth, int i, size_t n) {
    void* p = depth <= 0 ? leaf_alloc(i, n) : recurse(depth - 1, i, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) void* chain_c(int i, size_t n) {
    void* p = leaf_alloc(i, n);
    __asm__ volatile("" ::: "memory");
    return p;
}
__attribute__((noinline)) void* chain_b(int i, size_t n) {
    void* p = chain_c(i, n);
    __asm__ volatile("" ::: "memory");
    return p;
}
__attribute__((noinline)) void* chain_a(int i, size_t n) {
    void* p = chain_b(i, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(void) {
    void* warm[4];
    backtrace(warm, 4); /* loads libgcc_s now, not between a backtrace and its malloc */
    report_exe();
    report_range("leaf_alloc", (report_fn)leaf_alloc);
    report_range("recurse", (report_fn)recurse);
    report_range("chain_a", (report_fn)chain_a);
    report_range("chain_b", (report_fn)chain_b);
    report_range("chain_c", (report_fn)chain_c);
    report_range("main", (report_fn)main);

    /* Depths vary up and down so a unwinder that reuses the previous stack must notice. */
    static const int depths[kAllocs] = {-1, 5, 20, 3, 40, 40, 10, 90, 2, -1, 70, 0};
    for (int i = 0; i < kAllocs; ++i) {
        sizes[i] = 5000 + (size_t)i;
        blocks[i] = depths[i] < 0 ? chain_a(i, sizes[i]) : recurse(depths[i], i, sizes[i]);
    }
    for (int i = 0; i < kAllocs; ++i) {
        report_line("alloc %d %zu %p", i, sizes[i], blocks[i]);
        char line[kMaxFrames * 20 + 16];
        int off = snprintf(line, sizeof line, "bt %d", i);
        for (int k = 0; k < bt_len[i] && off < (int)sizeof line - 20; ++k) {
            off += snprintf(line + off, sizeof line - (size_t)off, " %p", bt[i][k]);
        }
        line[off++] = '\n';
        if (write(1, line, (size_t)off) != off) return 3;
        free(blocks[i]);
    }
    return 0;
}
