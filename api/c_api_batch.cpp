// Batch calls of the cache's C ABI: n keys packed end to end in one buffer, results into caller
// arrays, one crossing per batch (a ctypes call costs ~0.5 µs; a hit costs tens of ns). Each key is
// looked up exactly once and every item is attempted even after one fails: a batch never leaves
// the caller guessing which items happened.
#include <cstring>
#include <span>

#include "capi_guard.hpp"
#include "capi_handles.hpp"
#include "heapwise/heapwise.h"

using heapwise::api::as_view;
using heapwise::api::fail_current;

namespace {

// The status of one item's failure; keeps the first error as the batch's result.
void note_error(heapwise_status st, heapwise_status& first) {
    if (first == HEAPWISE_OK || first == HEAPWISE_TOO_SMALL) first = st;
}

// Sum of lengths, rejecting overflow (a corrupt length array must not wrap into a small read).
bool total_length(std::size_t n, const std::size_t* lens, std::size_t& total) {
    total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (lens[i] > SIZE_MAX - total) return false;
        total += lens[i];
    }
    return true;
}

}  // namespace

extern "C" {

HEAPWISE_API heapwise_status heapwise_cache_get_many(heapwise_cache_t* cache, size_t n,
                                                     const void* keys, const size_t* key_lens,
                                                     void* buf, size_t buf_cap, size_t* offsets,
                                                     size_t* value_lens, int* statuses,
                                                     void** allocs, size_t* needed) {
    constexpr const char* what = "heapwise_cache_get_many";
    HW_CAPI_REQUIRE(cache != nullptr, what);
    if (needed != nullptr) *needed = 0;
    if (n == 0) return HEAPWISE_OK;
    HW_CAPI_REQUIRE(
        key_lens != nullptr && offsets != nullptr && value_lens != nullptr && statuses != nullptr,
        what);
    std::size_t keys_total = 0;
    HW_CAPI_REQUIRE(total_length(n, key_lens, keys_total), what);
    HW_CAPI_REQUIRE(heapwise::api::valid_span(keys, keys_total), what);
    HW_CAPI_REQUIRE(heapwise::api::valid_span(buf, buf_cap), what);

    const auto* kp = static_cast<const char*>(keys);
    auto* out = static_cast<std::byte*>(buf);
    std::size_t used = 0;
    std::size_t need = 0;
    heapwise_status result = HEAPWISE_OK;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view key = as_view(kp, key_lens[i]);
        kp += key_lens[i];
        offsets[i] = 0;
        value_lens[i] = 0;
        if (allocs != nullptr) allocs[i] = nullptr;
        heapwise_status st = HEAPWISE_OK;
        try {
            const std::span<std::byte> room{out == nullptr ? nullptr : out + used, buf_cap - used};
            heapwise::Lookup l;
            heapwise::Bytes overflow;
            l = allocs != nullptr ? cache->cache.get_into(key, room, overflow)
                                  : cache->cache.get_into(key, room);
            if (!l.found) {
                st = HEAPWISE_NOT_FOUND;
            } else {
                value_lens[i] = l.size;
                need += l.size;
                if (l.size <= room.size()) {
                    offsets[i] = used;
                    used += l.size;
                } else if (allocs != nullptr) {
                    st = heapwise::api::copy_to_caller(overflow, &allocs[i]);
                } else {
                    st = HEAPWISE_TOO_SMALL;
                }
            }
        } catch (...) {
            st = fail_current(what);
        }
        statuses[i] = st;
        if (st == HEAPWISE_TOO_SMALL && result == HEAPWISE_OK) result = HEAPWISE_TOO_SMALL;
        if (st < 0) note_error(st, result);
    }
    if (needed != nullptr) *needed = need;
    return result;
}

HEAPWISE_API heapwise_status heapwise_cache_set_many(heapwise_cache_t* cache, size_t n,
                                                     const void* keys, const size_t* key_lens,
                                                     const void* values, const size_t* value_lens,
                                                     unsigned flags, uint64_t ttl_ms,
                                                     int* statuses) {
    constexpr const char* what = "heapwise_cache_set_many";
    HW_CAPI_REQUIRE(cache != nullptr, what);
    if (n == 0) return HEAPWISE_OK;
    HW_CAPI_REQUIRE(key_lens != nullptr && value_lens != nullptr, what);
    HW_CAPI_REQUIRE((flags & ~unsigned{HEAPWISE_SET_FORCE_DISK}) == 0, what);
    HW_CAPI_REQUIRE(ttl_ms <= heapwise::api::kMaxTtlMs, what);
    std::size_t keys_total = 0;
    std::size_t values_total = 0;
    HW_CAPI_REQUIRE(total_length(n, key_lens, keys_total), what);
    HW_CAPI_REQUIRE(total_length(n, value_lens, values_total), what);
    HW_CAPI_REQUIRE(heapwise::api::valid_span(keys, keys_total), what);
    HW_CAPI_REQUIRE(heapwise::api::valid_span(values, values_total), what);

    const heapwise::SetOptions so{.force_disk = (flags & HEAPWISE_SET_FORCE_DISK) != 0,
                                  .ttl = heapwise::api::ttl_from_ms(ttl_ms)};
    const auto* kp = static_cast<const char*>(keys);
    const auto* vp = static_cast<const char*>(values);
    heapwise_status result = HEAPWISE_OK;
    for (std::size_t i = 0; i < n; ++i) {
        heapwise_status st = HEAPWISE_OK;
        try {
            cache->cache.set(as_view(kp, key_lens[i]), as_view(vp, value_lens[i]), so);
        } catch (...) {
            st = fail_current(what);
            note_error(st, result);
        }
        kp += key_lens[i];
        vp += value_lens[i];
        if (statuses != nullptr) statuses[i] = st;
    }
    return result;
}

}  // extern "C"
