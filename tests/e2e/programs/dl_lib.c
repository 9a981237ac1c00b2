/* The shared library the dlopen test loads and unloads: it allocates from its own code, so the
 * trace's stacks need its module record. Plain C with no unique symbols, so dlclose unmaps it. */
#include <stdlib.h>

__attribute__((visibility("default"), noinline)) void* dl_lib_alloc(size_t n) {
    void* p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((visibility("default"))) void dl_lib_free(void* p) { free(p); }
