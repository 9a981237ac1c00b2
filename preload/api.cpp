// heapwise_tracer_snapshot and heapwise_tracer_active, the C entry points of heapwise.h that the
// shim exports. Until the recorder is wired in, tracing is reported off.
#include "heapwise/heapwise.h"

extern "C" __attribute__((visibility("default"))) int heapwise_tracer_snapshot(const char*) {
    return -1;
}
extern "C" __attribute__((visibility("default"))) int heapwise_tracer_active(void) { return 0; }
