/* Is the program's malloc still mimalloc's under the tracer? Allocates 1234 bytes and asks
 * mimalloc (looked up at run time, so the same source serves the linked and the preloaded case)
 * whether the block is in its heap. Prints "ptr block 0x..." and "in_mimalloc 1|0|absent". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>

#include "report.h"

int main(void) {
    void* p = malloc(1234);
    report_ptr("block", p);
    bool (*in_heap)(const void*) = (bool (*)(const void*))report_sym(RTLD_DEFAULT, "mi_is_in_heap_region");
    if (in_heap == NULL) report_line("in_mimalloc absent");
    else report_line("in_mimalloc %d", in_heap(p) ? 1 : 0);
    free(p);
    return 0;
}
