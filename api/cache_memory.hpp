// Where cache memory comes from: mimalloc, or the system allocator when asked (comparisons).
// Under ThreadSanitizer everything goes to malloc: TSan cannot see the uninstrumented
// mimalloc hand a block freed by one thread to another and would report false races.
#pragma once

#include <malloc.h>
#include <mimalloc.h>

#include <cstdlib>

#include "heapwise/bytes.hpp"

namespace heapwise::api {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kMimallocUsable = false;
#else
inline constexpr bool kMimallocUsable = true;
#endif

inline bool use_mimalloc(Allocator a) noexcept { return kMimallocUsable && a == Allocator::mimalloc; }

inline void* mem_alloc(std::size_t n, Allocator a) noexcept {
    return use_mimalloc(a) ? mi_malloc(n) : std::malloc(n);
}
inline void mem_free(void* p, Allocator a) noexcept {
    if (use_mimalloc(a)) {
        mi_free(p);
    } else {
        std::free(p);
    }
}
inline std::size_t mem_usable(const void* p, Allocator a) noexcept {
    return use_mimalloc(a) ? mi_usable_size(p) : malloc_usable_size(const_cast<void*>(p));
}

}  // namespace heapwise::api
