// The C entry points of heapwise.h and tracer_live.h that the shim exports (the program reaches
// them through weak references, so they are null when the tracer is absent). Thin: the work is
// in tracer.cpp and live.cpp.
#include "heapwise/heapwise.h"
#include "heapwise/tracer_live.h"
#include "live.hpp"
#include "tracer.hpp"

#define HW_EXPORT extern "C" __attribute__((visibility("default")))

namespace hp = heapwise::preload;

HW_EXPORT int heapwise_tracer_snapshot(const char* label) {
    return hp::Tracer::snapshot(label, heapwise::format::MarkerSource::kCall);
}

HW_EXPORT int heapwise_tracer_active(void) { return hp::Tracer::active() ? 1 : 0; }

HW_EXPORT int heapwise_tracer_live_enable(void) { return hp::live_enable(); }

HW_EXPORT int heapwise_tracer_live_snapshot(const char* label, heapwise_live_snapshot* out) {
    return hp::live_snapshot(label, out);
}

HW_EXPORT void heapwise_tracer_live_release(heapwise_live_snapshot* snap) { hp::live_release(snap); }

HW_EXPORT int heapwise_tracer_stack_frames(uint32_t stack, uintptr_t* frames, int max) {
    return hp::live_stack_frames(stack, frames, max);
}

HW_EXPORT int heapwise_tracer_internal_begin(void) { return hp::internal_begin(); }

HW_EXPORT void heapwise_tracer_internal_end(int token) { hp::internal_end(token); }
