/* heapwise's C interface, for C, C++ and Python (ctypes) programs.
 *
 * Tracer markers: heapwise_snapshot("label") writes a snapshot marker into the trace when the
 * program runs under the heapwise tracer (LD_PRELOAD=libheapwise_preload.so, or `heapwise record`),
 * and does nothing otherwise. The tracer's entry points are weak references, so a program that
 * uses them needs neither the tracer nor libheapwise to link or run.
 * From Python: ctypes.CDLL(None).heapwise_tracer_snapshot(b"label"), when the tracer is loaded. */
#ifndef HEAPWISE_HEAPWISE_H
#define HEAPWISE_HEAPWISE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by libheapwise_preload.so only. Returns 0 when the marker was recorded, -1 when tracing
 * is off (stopped after an error, or in a child that does not trace). */
extern int heapwise_tracer_snapshot(const char* label) __attribute__((weak));
/* 1 while the tracer records this process, 0 otherwise. */
extern int heapwise_tracer_active(void) __attribute__((weak));

/* Records a snapshot marker labelled `label` when the tracer is present; returns 0 when it was
 * recorded, -1 otherwise. Safe to call from any thread. */
static inline int heapwise_snapshot(const char* label) {
    return heapwise_tracer_snapshot ? heapwise_tracer_snapshot(label) : -1;
}

/* 1 when this process runs under the heapwise tracer and it is recording. */
static inline int heapwise_tracing(void) {
    return heapwise_tracer_active ? heapwise_tracer_active() : 0;
}

#ifdef __cplusplus
}
#endif

#endif /* HEAPWISE_HEAPWISE_H */
