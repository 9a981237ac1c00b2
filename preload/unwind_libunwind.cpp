// The libunwind backend: one unw_backtrace per event (libunwind's cached fast path, ~15 ns per
// frame here), never an unw_init_local/unw_step loop (~400 ns per frame). Also the dispatcher.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <atomic>
#include <cstring>

#include "heapwise/trace_format.hpp"
#include "unwind.hpp"

namespace heapwise::preload {
namespace {
std::atomic<format::Unwinder> g_unwinder{format::Unwinder::kLibunwind};
constexpr int kMaxFrames = static_cast<int>(format::kMaxStackDepth) + 16;
}  // namespace

void set_unwinder(format::Unwinder u) noexcept { g_unwinder.store(u, std::memory_order_relaxed); }
format::Unwinder current_unwinder() noexcept { return g_unwinder.load(std::memory_order_relaxed); }

int capture(std::span<std::uintptr_t> out, int skip) noexcept {
    int n = 0;
    switch (g_unwinder.load(std::memory_order_relaxed)) {
        case format::Unwinder::kFramePointer: n = capture_frame_pointer(out, skip + 1); break;
        case format::Unwinder::kLibunwindCached: n = capture_cached(out, skip + 1); break;
        case format::Unwinder::kNone: n = 0; break;
        default: n = capture_libunwind(out, skip + 1); break;
    }
    asm volatile("" ::: "memory");  // keeps the backend call from becoming a tail call
    return n;
}

int capture_libunwind(std::span<std::uintptr_t> out, int skip) noexcept {
    // buf[0] is the return point inside this function, buf[1] this function's own return
    // address (into our caller), buf[2] our caller's return address: out[0].
    void* buf[kMaxFrames + 3];
    int want = 2 + skip + static_cast<int>(out.size());
    if (want > kMaxFrames + 3) want = kMaxFrames + 3;
    const int got = unw_backtrace(buf, want);
    const int first = 2 + skip;
    if (got <= first) return 0;
    const int n = got - first;
    std::memcpy(out.data(), buf + first, static_cast<std::size_t>(n) * sizeof(void*));
    return n;
}

}  // namespace heapwise::preload
