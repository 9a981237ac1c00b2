/* The C path: a C11 program with a planted leak that watches itself through
 * heapwise/leak_detector.h. Prints "line N", the rows of heapwise_snapshot_compare (ROW, as
 * leaky.cpp), row 0's tracemalloc text (TEXT), each misuse's status and kind (bad-*), and the
 * report; without the tracer, "create STATUS KIND message" and exit 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapwise/leak_detector.h"

static void* g_keep[64];
static int g_line;

static void __attribute__((noinline)) leak_c(void) {
    for (int i = 0; i < 64; ++i) {
        g_line = __LINE__; g_keep[i] = malloc(1000);
    }
}

static void print_rows(const char* by, const heapwise_stats_t* rows) {
    heapwise_stat_row r;
    for (size_t i = 0; heapwise_stats_row(rows, i, &r) == HEAPWISE_OK; ++i) {
        printf("ROW %s\t%s\t%llu\t%lld\t%llu\t%lld\n", by, r.key, (unsigned long long)r.size,
               (long long)r.size_diff, (unsigned long long)r.count, (long long)r.count_diff);
    }
}

int main(void) {
    heapwise_detector_t* det = NULL;
    heapwise_status st = heapwise_detector_create(&det);
    if (st != HEAPWISE_OK) {
        printf("create %s %d %s\n", heapwise_status_name(st), heapwise_detector_last_error_kind(),
               heapwise_last_error());
        return det == NULL ? 3 : 4;
    }
    heapwise_snapshot_t *base = NULL, *now = NULL;
    if (heapwise_snapshot_take(det, "C1", &base) != HEAPWISE_OK) return 5;
    leak_c();
    if (heapwise_snapshot_take(det, "C2", &now) != HEAPWISE_OK) return 5;
    printf("line %d\n", g_line);

    heapwise_query q;
    heapwise_query_init(&q);
    heapwise_stats_t* rows = NULL;
    if (heapwise_snapshot_compare(now, base, &q, &rows) != HEAPWISE_OK) return 6;
    print_rows("lineno", rows);
    char text[512];
    size_t len = 0;
    if (heapwise_stats_format(rows, 0, text, sizeof text, &len) == HEAPWISE_OK) printf("TEXT %s\n", text);
    printf("tiny %s\n", heapwise_status_name(heapwise_stats_format(rows, 0, text, 4, &len)));
    printf("needed %zu\n", len);
    heapwise_stats_free(rows);

    const char* include[] = {"function:leak_*"};
    q.by = HEAPWISE_BY_FUNCTION;
    q.include = include;
    q.include_count = 1;
    if (heapwise_snapshot_compare(now, base, &q, &rows) != HEAPWISE_OK) return 6;
    print_rows("function", rows);
    heapwise_stats_free(rows);

    st = heapwise_snapshot_compare(now, now, NULL, &rows);
    printf("bad-same %s %d %s\n", heapwise_status_name(st), heapwise_detector_last_error_kind(),
           rows == NULL ? "null" : "set");
    q.by = 9;
    st = heapwise_snapshot_compare(now, base, &q, &rows);
    printf("bad-by %s %d\n", heapwise_status_name(st), heapwise_detector_last_error_kind());
    st = heapwise_snapshot_compare(NULL, base, NULL, &rows);
    printf("bad-null %s\n", heapwise_status_name(st));

    heapwise_query rq;
    heapwise_query_init(&rq);
    rq.top = 5;
    rq.min_growth = 1024;
    fflush(stdout);
    if (heapwise_detector_print_report(det, &rq, base, 1) != HEAPWISE_OK) return 7;

    heapwise_snapshot_free(now);
    heapwise_snapshot_free(base);
    heapwise_detector_destroy(det);
    for (int i = 0; i < 64; ++i) free(g_keep[i]);
    return 0;
}
