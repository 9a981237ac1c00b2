/* Planted leaks and growth in C for tests/leaks: fixed leaks of known sizes (malloc, calloc, a
 * realloc chain), a site that frees everything it allocates, a site that grows across four
 * heapwise_snapshot() markers, and a one-time allocation that stays flat and is freed at exit.
 * Each site the tests name is on a line ending in a LEAK-SITE comment; the tests find those line
 * numbers in this file at run time, so editing it cannot silently break them. No stdio: the
 * program makes no allocation of its own but these. Deterministic: run twice, it allocates the
 * same sizes in the same order (the differential test against heaptrack relies on it). */
#include <stdlib.h>
#include <string.h>

#include "heapwise/heapwise.h"

void* volatile g_fixed[5];
void* volatile g_calloc[2];
void* volatile g_realloc;
void* volatile g_grow[40];
void* volatile g_flat;

__attribute__((noinline)) void leak_fixed(void) {
    for (int i = 0; i < 5; ++i) {
        g_fixed[i] = malloc(1000); /* LEAK-SITE:fixed */
        memset(g_fixed[i], 1, 1000);
    }
}

__attribute__((noinline)) void leak_calloc(void) {
    for (int i = 0; i < 2; ++i) g_calloc[i] = calloc(3, 259); /* LEAK-SITE:calloc */
}

__attribute__((noinline)) void leak_realloc(void) {
    char* p = malloc(100);
    memset(p, 2, 100);
    g_realloc = realloc(p, 3000); /* LEAK-SITE:realloc */
}

__attribute__((noinline)) void frees_everything(void) {
    void* blocks[50];
    for (int i = 0; i < 50; ++i) {
        blocks[i] = malloc(512); /* LEAK-SITE:freed */
        memset(blocks[i], 3, 512);
    }
    for (int i = 0; i < 50; ++i) free(blocks[i]);
}

__attribute__((noinline)) void grow_step(int step) {
    for (int i = 0; i < 10; ++i) {
        g_grow[step * 10 + i] = malloc(2048); /* LEAK-SITE:grow */
        memset(g_grow[step * 10 + i], 4, 2048);
    }
}

__attribute__((noinline)) void one_time(void) {
    g_flat = malloc(65536); /* LEAK-SITE:flat */
    memset(g_flat, 5, 65536);
}

int main(void) {
    static const char* const kLabels[] = {"snap-1", "snap-2", "snap-3", "snap-4"};
    one_time();
    leak_fixed();
    leak_realloc();
    frees_everything();
    for (int step = 0; step < 4; ++step) {
        grow_step(step);
        frees_everything();
        heapwise_snapshot(kLabels[step]);
    }
    leak_calloc();
    free(g_flat);
    return 0;
}
