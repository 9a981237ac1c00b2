// The C ABI's opaque handles: what a heapwise_cache_t* (and the monitor's handle) points at, and
// conversions shared by the files that implement the ABI.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "capi_guard.hpp"
#include "heapwise/cache.hpp"
#include "heapwise/heapwise.h"

struct heapwise_cache {
    explicit heapwise_cache(heapwise::CacheOptions o) : cache(std::move(o)) {}
    heapwise::Cache cache;
};

namespace heapwise::api {

inline constexpr std::uint64_t kMaxTtlMs =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1'000'000;

// Milliseconds from C (0 = none) to the C++ API's nanoseconds; throws invalid_argument on overflow.
inline std::chrono::nanoseconds ttl_from_ms(std::uint64_t ms) {
    if (ms > kMaxTtlMs) throw std::invalid_argument("ttl_ms is too large");
    return std::chrono::milliseconds(ms);
}

// A library buffer holding a copy of value, for the caller to heapwise_free.
inline heapwise_status copy_to_caller(const Bytes& value, void** out) noexcept {
    void* p = alloc_for_caller(value.size());
    if (p == nullptr) return fail(HEAPWISE_ENOMEM, "heapwise_cache_get", "out of memory");
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
    *out = p;
    return HEAPWISE_OK;
}

}  // namespace heapwise::api
