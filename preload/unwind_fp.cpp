// The frame-pointer backend: follows the rbp chain, checking each link stays inside the thread's
// stack and moves outward. Right only for code built with frame pointers (Debian's libraries
// are not); a bad link ends the walk, it never faults.
#include <pthread.h>

#include <cstdint>

#include "unwind.hpp"

namespace heapwise::preload {
namespace {
[[gnu::tls_model("initial-exec")]] thread_local std::uintptr_t tls_stack_hi = 0;
}

void init_thread_stack_bounds() noexcept {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        tls_stack_hi = reinterpret_cast<std::uintptr_t>(addr) + size;
    }
    pthread_attr_destroy(&attr);
}

int capture_frame_pointer(std::span<std::uintptr_t> out, int skip) noexcept {
    if (tls_stack_hi == 0) init_thread_stack_bounds();
    const std::uintptr_t hi = tls_stack_hi;
    auto* fp = static_cast<std::uintptr_t*>(__builtin_frame_address(0));
    int n = 0;
    ++skip;  // our own return address is not part of the stack (out[0] is our caller's)
    // fp[0]: the caller's saved frame pointer; fp[1]: our return address.
    while (n < static_cast<int>(out.size())) {
        const std::uintptr_t ret = fp[1];
        if (ret == 0) break;
        if (skip > 0) {
            --skip;
        } else {
            out[static_cast<std::size_t>(n++)] = ret;
        }
        const auto next = fp[0];
        if (next <= reinterpret_cast<std::uintptr_t>(fp) || next + 16 > hi || (next & 7) != 0) break;
        fp = reinterpret_cast<std::uintptr_t*>(next);
    }
    return n;
}

}  // namespace heapwise::preload
