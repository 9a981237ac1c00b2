/* The tracer's live view: what the in-process leak detector (heapwise/leak_detector.hpp) reads.
 *
 * libheapwise_preload.so defines these; everything else reaches them through the weak references
 * below, so a program that never runs under the tracer still links and runs (every entry point
 * is then a null pointer and the detector reports "tracer not active").
 *
 * Live aggregation: the tracer's writer thread already sees every event in time order. When
 * aggregation is on it also keeps address -> (weighted size, stack) for the live blocks and, per
 * stack id, the live bytes, live blocks, allocations and bytes allocated. Cost on the program's
 * threads: none (the work is the writer's). It is on from the start when HEAPWISE_LIVE=1, and
 * heapwise_tracer_live_enable() turns it on later (then blocks allocated before that point are
 * not known to it, and their frees are ignored: the view starts there, like tracemalloc.start()).
 *
 * Sampled traces: each block is weighed by its inverse sampling probability, exactly as the
 * analyzer weighs it (heapwise/sampling.hpp), so live and offline figures agree; the header says
 * so through sample_interval != 0.
 *
 * Internal allocations: between heapwise_tracer_internal_begin() and _end() on a thread, its
 * allocations are recorded without unwinding under one reserved stack id that the trace marks
 * as internal (record kind kInternalStack); live snapshots and the analyzer's groupings leave that
 * stack out. The detector wraps its own work in these calls so its allocations never appear in
 * its results, and the trace stays consistent (their frees are recorded normally). */
#ifndef HEAPWISE_TRACER_LIVE_H
#define HEAPWISE_TRACER_LIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEAPWISE_LIVE_ABI 1

/* One stack's figures at a live snapshot. Stacks with nothing allocated since aggregation began
 * are not listed; stacks whose blocks were all freed are listed with live_* == 0. */
typedef struct heapwise_live_site {
    uint32_t stack;           /* the trace's stack id (>= 1), as in the file; 0 only when the
                                 tracer's stack table overflowed (events with no stack) */
    uint32_t reserved;
    uint64_t live_bytes;      /* weighted (sampled) or exact */
    uint64_t live_count;
    uint64_t allocs;          /* allocations with this stack since aggregation began */
    uint64_t bytes_allocated;
} heapwise_live_site;

typedef struct heapwise_live_snapshot {
    uint32_t abi;                /* HEAPWISE_LIVE_ABI */
    uint32_t pid;                /* the process the tracer records */
    uint64_t time_ns;            /* CLOCK_MONOTONIC stamp of the snapshot's marker */
    uint64_t since_ns;           /* when aggregation began (0: from the start of the trace) */
    uint64_t sample_interval;    /* 0: exact figures; else sampled, figures are estimates */
    uint64_t live_bytes;         /* sums over the sites below (internal stack excluded) */
    uint64_t live_count;
    uint64_t lost_events;        /* events a lossy tracer dropped so far (figures incomplete) */
    uint64_t nsites;
    heapwise_live_site* sites;   /* nsites entries, ascending by stack id; owned by the tracer */
} heapwise_live_snapshot;

/* Turns live aggregation on if it is off. Returns 1 when it was already on since the start of the
 * trace, 0 when it starts now (or started at an earlier call), -1 when the tracer is not
 * recording. Idempotent, thread-safe. */
extern int heapwise_tracer_live_enable(void) __attribute__((weak));

/* Records a marker (MarkerSource kApi) labelled `label` from the calling thread, waits until the
 * writer has accounted every event recorded before it (in every thread), and fills *out with the
 * aggregation at that point. Exact in lossless mode: `heapwise diff trace --to LABEL` replays to
 * the same state. Returns 0, or -1 when the tracer is not recording or aggregation is off (errno
 * ENOSYS / EINVAL), or the writer stopped (ECANCELED), or the tracer ran out of memory for the
 * aggregation (ENOMEM), or the call came from inside the tracer itself (EDEADLK: its writer
 * thread, or a thread interrupted in a hook). Release *out with heapwise_tracer_live_release.
 * Must not be called from a signal handler. */
extern int heapwise_tracer_live_snapshot(const char* label, heapwise_live_snapshot* out)
    __attribute__((weak));
extern void heapwise_tracer_live_release(heapwise_live_snapshot* snap) __attribute__((weak));

/* The return addresses of stack `stack`, leaf first (the tracer's own frames excluded), as the
 * trace records them. Writes at most `max` into frames and returns the full depth (call again with
 * a larger buffer when it exceeds max), 0 for the internal stack, -1 for an unknown id. */
extern int heapwise_tracer_stack_frames(uint32_t stack, uintptr_t* frames, int max)
    __attribute__((weak));

/* Bracket the caller's own bookkeeping: allocations made on this thread in between are recorded
 * under the internal stack. Nestable; begin returns a token that end takes back. */
extern int heapwise_tracer_internal_begin(void) __attribute__((weak));
extern void heapwise_tracer_internal_end(int token) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* HEAPWISE_TRACER_LIVE_H */
