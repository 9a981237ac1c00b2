// The interposed allocation functions, and nothing else. How the real allocator is resolved:
// dlsym(RTLD_NEXT, name) on first use (real.cpp), so the shim forwards to whatever comes next in
// lookup order (glibc, or a jemalloc/tcmalloc/mimalloc the program preloads or links); dlsym's
// own early calloc/malloc are served from a static bootstrap arena that free/realloc recognize.
// Each hook: call the real function, return at once if re-entrant (tls_guard) or not recording,
// else record (a free before the memory is released, an allocation after it is obtained).
// Never allocate, lock or throw here; rare work is in *_slow functions elsewhere.
// C++ operator new/delete are seen through malloc/free: libstdc++ implements them with these.
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include <cstring>

#include "check.hpp"
#include "real.hpp"
#include "state.hpp"
#include "tracer.hpp"

#define HW_EXPORT extern "C" __attribute__((visibility("default")))

using heapwise::format::AllocFn;
using heapwise::format::FreeFn;
namespace hp = heapwise::preload;

namespace {
// Whether this call is the program's: not the shim's own (guard), with tracing on.
inline bool should_record() noexcept {
    if (hp::tls_guard != 0) [[unlikely]] {
#ifndef NDEBUG
        HW_CHECK(hp::tls_recording == 0);  // a hook re-entered while recording is a shim bug
#endif
        return false;
    }
    return hp::g.recording.load(std::memory_order_relaxed) != 0;
}
// glibc's reallocarray calls realloc through the PLT, i.e. our realloc: hold the guard so the
// call is recorded once, as what the program called. The same for the aligned family, whose
// implementation in some allocators goes through their public functions.
void* real_reallocarray(void* p, size_t n, size_t size) noexcept {
    hp::ReentryGuard guard;
    return hp::real.reallocarray(p, n, size);
}
template <typename F, typename... A>
auto guarded(F f, A... a) noexcept {
    hp::ReentryGuard guard;
    return f(a...);
}
}  // namespace

HW_EXPORT void* malloc(size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return hp::bootstrap_alloc(n, 16);
    void* p = hp::real.malloc(n);
    if (should_record()) hp::Tracer::record_alloc(p, n, AllocFn::kMalloc);
    return p;
}

HW_EXPORT void free(void* p) {
    if (p == nullptr || hp::is_bootstrap(p)) [[unlikely]] return;
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return;
    if (should_record()) hp::Tracer::record_free(p, FreeFn::kFree);
    hp::real.free(p);
}

HW_EXPORT void* calloc(size_t n, size_t size) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] {
        size_t total = 0;
        if (__builtin_mul_overflow(n, size, &total)) return nullptr;
        return hp::bootstrap_alloc(total, 16);  // static memory: already zero
    }
    void* p = hp::real.calloc(n, size);
    if (should_record()) hp::Tracer::record_alloc(p, n * size, AllocFn::kCalloc);
    return p;
}

HW_EXPORT void* realloc(void* p, size_t n) {
    if (hp::is_bootstrap(p) || (!hp::real_ready() && !hp::ensure_real_slow())) [[unlikely]] {
        void* q = hp::real_ready() ? hp::real.malloc(n) : hp::bootstrap_alloc(n, 16);
        if (q != nullptr && p != nullptr) {
            const size_t old = hp::bootstrap_size(p);
            std::memcpy(q, p, old < n ? old : n);
        }
        return q;
    }
    if (!should_record()) return hp::real.realloc(p, n);
    if (p == nullptr) {
        void* q = hp::real.realloc(nullptr, n);
        hp::Tracer::record_alloc(q, n, AllocFn::kRealloc);
        return q;
    }
    if (n == 0) {
        hp::Tracer::record_free(p, FreeFn::kRealloc);
        return hp::real.realloc(p, 0);
    }
    const bool freed = hp::Tracer::record_realloc_begin(p, FreeFn::kRealloc);
    void* q = hp::real.realloc(p, n);
    hp::Tracer::record_realloc_end(p, q, n, freed, AllocFn::kRealloc);
    return q;
}

HW_EXPORT void* reallocarray(void* p, size_t n, size_t size) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return nullptr;
    size_t total = 0;
    if (!should_record() || __builtin_mul_overflow(n, size, &total)) {
        return hp::real.reallocarray(p, n, size);  // an overflow fails and leaves p alone
    }
    if (p == nullptr) {
        void* q = real_reallocarray(nullptr, n, size);
        hp::Tracer::record_alloc(q, total, AllocFn::kReallocArray);
        return q;
    }
    if (total == 0) {
        hp::Tracer::record_free(p, FreeFn::kReallocArray);
        return real_reallocarray(p, n, size);
    }
    const bool freed = hp::Tracer::record_realloc_begin(p, FreeFn::kReallocArray);
    void* q = real_reallocarray(p, n, size);
    hp::Tracer::record_realloc_end(p, q, total, freed, AllocFn::kReallocArray);
    return q;
}

HW_EXPORT int posix_memalign(void** out, size_t align, size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] {
        *out = hp::bootstrap_alloc(n, align);
        return *out != nullptr ? 0 : ENOMEM;
    }
    const int rc = guarded(hp::real.posix_memalign, out, align, n);
    if (rc == 0 && should_record()) hp::Tracer::record_alloc(*out, n, AllocFn::kPosixMemalign);
    return rc;
}

HW_EXPORT void* aligned_alloc(size_t align, size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return hp::bootstrap_alloc(n, align);
    void* p = guarded(hp::real.aligned_alloc, align, n);
    if (should_record()) hp::Tracer::record_alloc(p, n, AllocFn::kAlignedAlloc);
    return p;
}

HW_EXPORT void* memalign(size_t align, size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return hp::bootstrap_alloc(n, align);
    void* p = guarded(hp::real.memalign, align, n);
    if (should_record()) hp::Tracer::record_alloc(p, n, AllocFn::kMemalign);
    return p;
}

HW_EXPORT void* valloc(size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return hp::bootstrap_alloc(n, 4096);
    void* p = guarded(hp::real.valloc, n);
    if (should_record()) hp::Tracer::record_alloc(p, n, AllocFn::kValloc);
    return p;
}

HW_EXPORT void* pvalloc(size_t n) {
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return hp::bootstrap_alloc(n, 4096);
    void* p = guarded(hp::real.pvalloc, n);
    if (should_record()) hp::Tracer::record_alloc(p, n, AllocFn::kPvalloc);
    return p;
}

HW_EXPORT size_t malloc_usable_size(void* p) {
    if (p == nullptr) return 0;
    if (hp::is_bootstrap(p)) return hp::bootstrap_size(p);
    if (!hp::real_ready() && !hp::ensure_real_slow()) [[unlikely]] return 0;
    return hp::real.malloc_usable_size(p);
}
