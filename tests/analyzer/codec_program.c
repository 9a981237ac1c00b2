/* A program whose heap events are the same on every run, for the codec end-to-end test: a fixed
 * pattern of mallocs, reallocs and frees (a churn loop, a growing array, blocks left live at
 * exit). It reads no environment and prints nothing, so the codec setting cannot change its
 * allocations. */
#include <stdlib.h>
#include <string.h>

#define CHURN 20000
#define KEEP 64

static void* volatile sink;

int main(void) {
    void* keep[KEEP];
    for (int i = 0; i < KEEP; ++i) keep[i] = malloc((size_t)(i + 1) * 24);
    size_t cap = 16;
    char* grow = malloc(cap);
    for (int i = 0; i < CHURN; ++i) {
        char* p = malloc((size_t)(i % 509) + 1);
        memset(p, i, 1);
        sink = p;
        if (i % 7 == 0) {
            cap += 64;
            grow = realloc(grow, cap);
        }
        free(p);
    }
    for (int i = 0; i < KEEP; i += 2) free(keep[i]);
    free(grow);
    sink = keep[1];
    return 0;
}
