/* Snapshot markers as a program makes them. argv[1]:
 *   call   - heapwise_snapshot("first"), a 1111-byte block, heapwise_snapshot("second");
 *   signal - raises SIGUSR2 twice, with a 2222-byte block between (HEAPWISE_SNAPSHOT_SIGNAL=USR2);
 *   period - allocates and frees a block every 10 ms for 700 ms (HEAPWISE_SNAPSHOT_EVERY).
 * Prints "rc LABEL VALUE" for each call, "tracing N", "ptr block 0x..". Run without the tracer,
 * heapwise_snapshot must return -1 and the program must still work. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <heapwise/heapwise.h>

#include "report.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    report_line("tracing %d", heapwise_tracing());
    if (strcmp(argv[1], "call") == 0) {
        report_line("rc first %d", heapwise_snapshot("first"));
        void* p = malloc(1111);
        report_line("rc second %d", heapwise_snapshot("second"));
        report_ptr("block", p);
        free(p);
    } else if (strcmp(argv[1], "signal") == 0) {
        raise(SIGUSR2);
        sleep_ms(50);
        void* p = malloc(2222);
        raise(SIGUSR2);
        sleep_ms(50);
        report_ptr("block", p);
        free(p);
    } else if (strcmp(argv[1], "period") == 0) {
        for (int i = 0; i < 70; ++i) {
            void* volatile p = malloc(64);
            free(p);
            sleep_ms(10);
        }
    } else {
        return 2;
    }
    report_line("done");
    return 0;
}
