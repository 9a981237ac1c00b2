/* Calls every C function of the tracer's interposed surface from one function, do_surface(), with
 * known sizes and the edge cases of realloc and reallocarray, then prints what each call returned
 * ("ptr NAME 0x..."). The test matches the trace's operations from do_surface against them. Frees
 * everything except the blocks named "leak_*". */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "report.h"

enum { kMaxPtrs = 32 };
static const char* names[kMaxPtrs];
static void* ptrs[kMaxPtrs];
static int nptrs;
static size_t usable;
static int realloc_errno, reallocarray_errno;

static void keep(const char* name, void* p) {
    names[nptrs] = name;
    ptrs[nptrs++] = p;
}

/* Huge requests glibc refuses with ENOMEM; volatile so the compiler cannot see through them. */
static volatile size_t huge = SIZE_MAX / 2;
static volatile size_t overflow_n = SIZE_MAX / 4;

/* A failed realloc or reallocarray leaves its block valid; GCC cannot know it failed. */
#pragma GCC diagnostic ignored "-Wuse-after-free"

__attribute__((noinline)) void do_surface(void) {
    void* m = malloc(1001);
    keep("malloc", m);
    void* c = calloc(7, 143);
    keep("leak_calloc", c);
    usable = malloc_usable_size(m);

    void* r0 = realloc(NULL, 1002);
    keep("realloc_null", r0);
    void* r1 = realloc(r0, 50000);  /* grows (in place or moving) */
    keep("realloc_grow", r1);
    void* r2 = realloc(r1, 1003);   /* shrinks: glibc keeps the block */
    keep("realloc_shrink", r2);
    errno = 0;
    void* rf = realloc(r2, huge);   /* fails: r2 stays valid */
    realloc_errno = errno;
    keep("realloc_fail", rf);
    void* s = malloc(100);
    keep("small", s);
    void* s2 = realloc(s, 104);     /* fits the usable size: in place */
    keep("realloc_inplace", s2);
    void* z = realloc(s2, 0);       /* frees s2 */
    keep("realloc_zero", z);

    void* ra = reallocarray(NULL, 10, 101);
    keep("reallocarray_null", ra);
    void* ra2 = reallocarray(ra, 20, 101);
    keep("reallocarray_grow", ra2);
    errno = 0;
    void* raf = reallocarray(ra2, overflow_n, 8); /* n * size overflows: ra2 stays valid */
    reallocarray_errno = errno;
    keep("reallocarray_fail", raf);

    void* pm = NULL;
    if (posix_memalign(&pm, 64, 1004) != 0) _exit(2);
    keep("posix_memalign", pm);
    void* aa = aligned_alloc(128, 1024);
    keep("aligned_alloc", aa);
    void* ma = memalign(256, 1005);
    keep("leak_memalign", ma);
    void* va = valloc(1006);
    keep("valloc", va);
    void* pv = pvalloc(1007);
    keep("pvalloc", pv);

    free(m);
    free(r2);
    free(ra2);
    free(pm);
    free(aa);
    free(va);
    free(pv);
    free(NULL);
}

int main(void) {
    report_exe();
    report_range("do_surface", (report_fn)do_surface);
    do_surface();
    for (int i = 0; i < nptrs; ++i) report_ptr(names[i], ptrs[i]);
    report_line("usable %zu", usable);
    report_line("realloc_errno %d", realloc_errno);
    report_line("reallocarray_errno %d", reallocarray_errno);
    report_line("page %ld", sysconf(_SC_PAGESIZE));
    return 0;
}
