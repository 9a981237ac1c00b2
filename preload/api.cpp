// heapwise_tracer_snapshot and heapwise_tracer_active, the C entry points of heapwise.h that the
// shim exports (the program reaches them through weak references).
#include "heapwise/heapwise.h"
#include "tracer.hpp"

namespace hp = heapwise::preload;

extern "C" __attribute__((visibility("default"))) int heapwise_tracer_snapshot(const char* label) {
    return hp::Tracer::snapshot(label, heapwise::format::MarkerSource::kCall);
}

extern "C" __attribute__((visibility("default"))) int heapwise_tracer_active(void) {
    return hp::Tracer::active() ? 1 : 0;
}
