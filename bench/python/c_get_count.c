/* The C side of bench/python/batch_get.py's comparison: one cache hit through the C ABI with no
 * Python in between. Instructions per hit = (count with N - count with 0) / N:
 *   cc -O2 -Iinclude bench/python/c_get_count.c -Lbuild/api -lheapwise -Wl,-rpath,$PWD/build/api \
 *      -o /tmp/c_get_count
 *   for n in 0 100000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *      /tmp/c_get_count $n 2>&1 | grep Collected; done
 * Same key and value sizes as batch_get.py (a 26-byte URL, 100 bytes plus the Python tag byte). */
#include <stdio.h>
#include <stdlib.h>

#include "heapwise/heapwise.h"

int main(int argc, char** argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 0;
    heapwise_cache_options o;
    heapwise_cache_options_init(&o);
    o.max_disk = 0;
    heapwise_cache_t* c = NULL;
    if (heapwise_cache_create(&o, &c) != HEAPWISE_OK) {
        fprintf(stderr, "c_get_count: %s\n", heapwise_last_error());
        return 1;
    }
    static const char key[] = "https://example.com/page/1";
    static char value[101];
    static char buf[65536];
    if (heapwise_cache_set(c, key, sizeof key - 1, value, sizeof value, 0, 0) != HEAPWISE_OK) {
        fprintf(stderr, "c_get_count: %s\n", heapwise_last_error());
        return 1;
    }
    void* alloc = NULL;
    size_t len = 0;
    for (int i = 0; i < n; ++i) {
        if (heapwise_cache_get_into(c, key, sizeof key - 1, buf, sizeof buf, &alloc, &len) !=
            HEAPWISE_OK) {
            fprintf(stderr, "c_get_count: lookup %d missed\n", i);
            return 1;
        }
    }
    heapwise_cache_destroy(c);
    return 0;
}
