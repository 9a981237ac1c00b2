// Resolution of the real allocator (see real.hpp) and the bootstrap arena. The resolving thread
// holds the re-entrancy guard and marks itself, so its own nested calls (dlsym's calloc) take the
// arena; another thread arriving meanwhile waits for the resolution to finish.
#include "real.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstring>

#include "state.hpp"
#include "sys.hpp"

namespace heapwise::preload {

RealFunctions real{};
int real_state = 0;
alignas(64) char bootstrap_arena[kBootstrapSize];

namespace {
std::atomic<std::size_t> g_bootstrap_used{0};
[[gnu::tls_model("initial-exec")]] thread_local int tls_resolving = 0;

template <typename F>
void next(F& out, const char* name) noexcept {
    out = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
}  // namespace

void* bootstrap_alloc(std::size_t size, std::size_t align) noexcept {
    if (align < 16) align = 16;
    // Each block: 16-byte header holding its size, then the (aligned) block.
    std::size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
    for (;;) {
        std::size_t start = (used + 16 + align - 1) & ~(align - 1);
        if (start + size > kBootstrapSize) return nullptr;
        if (g_bootstrap_used.compare_exchange_weak(used, start + size, std::memory_order_relaxed)) {
            std::memcpy(bootstrap_arena + start - 8, &size, sizeof(size));
            return bootstrap_arena + start;
        }
    }
}

std::size_t bootstrap_size(const void* p) noexcept {
    std::size_t size = 0;
    std::memcpy(&size, static_cast<const char*>(p) - 8, sizeof(size));
    return size;
}

void resolve_real_slow() noexcept {
    if (tls_resolving != 0) return;  // nested call from dlsym: the caller uses the arena
    int expected = 0;
    if (!__atomic_compare_exchange_n(&real_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&real_state, __ATOMIC_ACQUIRE) != 2) sys::yield();
        return;
    }
    ReentryGuard guard;
    tls_resolving = 1;
    next(real.malloc, "malloc");
    next(real.free, "free");
    next(real.calloc, "calloc");
    next(real.realloc, "realloc");
    next(real.reallocarray, "reallocarray");
    next(real.posix_memalign, "posix_memalign");
    next(real.aligned_alloc, "aligned_alloc");
    next(real.memalign, "memalign");
    next(real.valloc, "valloc");
    next(real.pvalloc, "pvalloc");
    next(real.malloc_usable_size, "malloc_usable_size");
    next(real.dlclose, "dlclose");
    next(real.execve, "execve");
    next(real.execvp, "execvp");
    next(real.execvpe, "execvpe");
    next(real.fexecve, "fexecve");
    next(real.exit_now, "_exit");
    next(real.abort, "abort");
    next(real.pthread_setname_np, "pthread_setname_np");
    tls_resolving = 0;
    __atomic_store_n(&real_state, 2, __ATOMIC_RELEASE);
}

bool resolving_here() noexcept { return tls_resolving != 0; }

}  // namespace heapwise::preload

namespace heapwise::preload {
bool ensure_real_slow() noexcept {
    resolve_real_slow();
    return real_ready();
}
}  // namespace heapwise::preload
