// The functions the hooks forward to: whatever comes next in the symbol lookup order after the
// shim (glibc's, or jemalloc/tcmalloc/mimalloc when the program preloads or links one), found
// with dlsym(RTLD_NEXT). dlsym itself may call calloc/malloc/free before those are known: such
// early calls are served from a static bootstrap arena that free() and realloc() recognize.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapwise::preload {

struct RealFunctions {
    void* (*malloc)(std::size_t);
    void (*free)(void*);
    void* (*calloc)(std::size_t, std::size_t);
    void* (*realloc)(void*, std::size_t);
    void* (*reallocarray)(void*, std::size_t, std::size_t);
    int (*posix_memalign)(void**, std::size_t, std::size_t);
    void* (*aligned_alloc)(std::size_t, std::size_t);
    void* (*memalign)(std::size_t, std::size_t);
    void* (*valloc)(std::size_t);
    void* (*pvalloc)(std::size_t);
    std::size_t (*malloc_usable_size)(void*);
    int (*dlclose)(void*);
    int (*execve)(const char*, char* const[], char* const[]);
    int (*execvp)(const char*, char* const[]);
    int (*execvpe)(const char*, char* const[], char* const[]);
    int (*fexecve)(int, char* const[], char* const[]);
    void (*exit_now)(int);  // _exit
    void (*abort)();
    int (*pthread_setname_np)(unsigned long, const char*);
};

extern RealFunctions real;
// 0 unresolved, 1 resolving (this or another thread is inside dlsym), 2 ready.
extern int real_state;

[[gnu::noinline, gnu::cold]] void resolve_real_slow() noexcept;
// True once the real functions are known; resolves them on first use. False only for calls made
// by dlsym itself while resolving (those use the bootstrap arena).
[[gnu::noinline, gnu::cold]] bool ensure_real_slow() noexcept;
bool resolving_here() noexcept;
inline bool real_ready() noexcept { return __atomic_load_n(&real_state, __ATOMIC_ACQUIRE) == 2; }

// The bootstrap arena: 1 MiB of static memory for allocations made while resolving.
extern char bootstrap_arena[];
inline constexpr std::size_t kBootstrapSize = 1u << 20;
inline bool is_bootstrap(const void* p) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const auto b = reinterpret_cast<std::uintptr_t>(bootstrap_arena);
    return a - b < kBootstrapSize;
}
[[gnu::noinline, gnu::cold]] void* bootstrap_alloc(std::size_t size, std::size_t align) noexcept;
std::size_t bootstrap_size(const void* p) noexcept;

}  // namespace heapwise::preload
