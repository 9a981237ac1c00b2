/* The analyzer benchmarks' workload: a malloc/free loop with a bounded live set, from 8 call sites
 * with 6 sizes (48 distinct size/stack pairs, so heaptrack's interpreter copes with it), and ten
 * heapwise_snapshot() markers spread over the run. Deterministic for given options.
 *
 *   churn [--events N] [--live N]
 *
 * N heap events in all: N/2 allocations and N/2 frees (the live set is freed before exit); at most
 * --live blocks (default 4096) are live at once. Prints "events N" on stdout at the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapwise/heapwise.h"

#define SITE(n)                                                              \
    __attribute__((noinline)) static void* site##n(size_t size) {            \
        void* p = malloc(size);                                              \
        if (p != NULL) memset(p, (int)(n), size < 64 ? size : 64);           \
        return p;                                                            \
    }
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7)
static void* (*const kSites[8])(size_t) = {site0, site1, site2, site3, site4, site5, site6, site7};

static uint64_t next(uint64_t* s) {  /* xorshift64 */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(int argc, char** argv) {
    long long events = 2000000;
    long live = 4096;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0) events = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--live") == 0) live = atol(argv[i + 1]);
        else {
            fprintf(stderr, "churn: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (events < 2 || live < 1) return 2;
    void** slots = calloc((size_t)live, sizeof(void*));
    if (slots == NULL) return 1;
    const long long allocs = events / 2 - 1;  /* the slots array is one allocation and one free */
    const long long marker_every = allocs / 10 > 0 ? allocs / 10 : 1;
    uint64_t rng = 88172645463325252ull;
    int marker = 0;
    for (long long i = 0; i < allocs; ++i) {
        const uint64_t r = next(&rng);
        void** slot = &slots[r % (uint64_t)live];
        free(*slot);
        *slot = kSites[(r >> 20) % 8]((size_t)16 << ((r >> 32) % 6));
        if ((i + 1) % marker_every == 0 && marker < 10) {
            char label[16];
            snprintf(label, sizeof label, "step-%d", ++marker);
            heapwise_snapshot(label);
        }
    }
    for (long i = 0; i < live; ++i) free(slots[i]);
    free(slots);
    printf("events %lld\n", events);
    return 0;
}
