// The recorder's entry points, shared by the hooks (hooks.cpp), the lifecycle code and the
// benchmarks. A benchmark or test can trace without LD_PRELOAD:
//
//     heapwise::preload::Options o;                 // or parse_options(...)
//     heapwise::preload::Tracer::start(o, "/tmp/x.hwt");
//     void* p = std::malloc(64);
//     heapwise::preload::Tracer::record_alloc(p, 64, heapwise::format::AllocFn::kMalloc);
//     heapwise::preload::Tracer::record_free(p, heapwise::format::FreeFn::kFree);
//     std::free(p);
//     heapwise::preload::Tracer::stop(heapwise::format::EndReason::kExit);
//
// record_alloc/record_free do exactly what a hook does around the real allocator call: stack
// capture (the caller of record_* is the stack's first frame), interning, ring push. A free is
// recorded before the memory is released, an allocation after it was obtained (the ordering
// rule, see writer.cpp). One tracer per process; start/stop may repeat.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>

#include "heapwise/trace_format.hpp"
#include "options.hpp"

namespace heapwise::preload {

struct TracerStats {
    std::uint64_t events = 0;  // written to the file so far
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::uint64_t lost = 0;
    std::uint64_t stacks = 0;
    std::uint64_t blocks = 0;
    std::uint64_t bytes_written = 0;
};

class Tracer {
public:
    // Opens `path` (0600, truncated) and starts the writer thread; false (one line on stderr)
    // when the file cannot be created or memory is short. The process is traced from here on.
    static bool start(const Options& options, const char* path) noexcept;
    // Records the last events and an End record with `reason`, closes the file. Idempotent.
    static void stop(format::EndReason reason) noexcept;
    static bool active() noexcept;

    [[gnu::noinline]] static void record_alloc(void* p, std::size_t size, format::AllocFn fn) noexcept;
    [[gnu::noinline]] static void record_free(void* p, format::FreeFn fn) noexcept;
    // realloc(p, n) with p != NULL, n != 0 (trace_format.hpp): begin records kFree(p) before the
    // call and says whether it did; end records kAlloc(q) or, when q is NULL, kReallocFailed(p).
    static bool record_realloc_begin(void* p, format::FreeFn fn) noexcept;
    [[gnu::noinline]] static void record_realloc_end(void* old, void* q, std::size_t size,
                                                     bool freed_recorded, format::AllocFn fn) noexcept;
    // A marker from this thread; 0 when recorded, -1 when tracing is off. request != 0: a live
    // snapshot the writer answers at this marker (live.cpp).
    static int snapshot(const char* label, format::MarkerSource source, std::uint64_t request = 0) noexcept;
    // Async-signal-safe: asks the writer for a kSignal marker.
    static void snapshot_from_signal() noexcept;
    static void thread_named(pthread_t thread, const char* name) noexcept;
    // After dlclose: addresses may now mean other code. New stacks get new ids; the writer
    // rescans the module map at this point of the event order.
    static void modules_changed() noexcept;
    // Before dlclose: has the writer read the module map while the library is still mapped, and
    // waits (bounded) until it did, so stacks through the library can still be resolved.
    static void modules_changing() noexcept;
    static TracerStats stats() noexcept;
};

}  // namespace heapwise::preload
