/* A program with one planted leak for the replay's end-to-end test: leak_here() keeps three
 * 4096-byte blocks forever; every other allocation is freed before exit. */
#include <stdlib.h>
#include <string.h>

void* volatile g_keep[3];

__attribute__((noinline)) void leak_here(void) {
    for (int i = 0; i < 3; ++i) {
        g_keep[i] = malloc(4096);
        memset(g_keep[i], i, 4096);
    }
}

__attribute__((noinline)) void churn(void) {
    for (int i = 0; i < 100; ++i) {
        char* p = malloc(64 + (size_t)i);
        memset(p, 0, 64);
        free(p);
    }
}

int main(void) {
    churn();
    leak_here();
    churn();
    return 0;
}
