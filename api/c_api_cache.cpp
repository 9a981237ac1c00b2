// The C ABI of heapwise::Cache (include/heapwise/heapwise.h): an opaque handle over a Cache, single
// and batch calls with caller-owned buffers. Batch calls exist so that a binding (Python's ctypes)
// pays one crossing per batch; they look each key up exactly once, so statistics count what the
// caller asked for, never a retry.
#include <chrono>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "capi_guard.hpp"
#include "cache_shared.hpp"
#include "capi_handles.hpp"
#include "heapwise/cache.hpp"
#include "heapwise/heapwise.h"

namespace heapwise::api {
namespace {

static_assert(static_cast<int>(EvictCause::evicted) == HEAPWISE_EVICTED);
static_assert(static_cast<int>(EvictCause::spilled) == HEAPWISE_SPILLED);
static_assert(static_cast<int>(EvictCause::expired) == HEAPWISE_EXPIRED);
static_assert(static_cast<int>(EvictCause::removed) == HEAPWISE_REMOVED);
static_assert(static_cast<int>(EvictCause::replaced) == HEAPWISE_REPLACED);
static_assert(static_cast<int>(EvictCause::pressure) == HEAPWISE_PRESSURE);

CacheOptions to_options(const heapwise_cache_options& o) {
    CacheOptions c;
    c.max_memory = o.max_memory;
    c.max_disk = o.max_disk;
    if (o.spill_dir != nullptr) c.spill_dir = o.spill_dir;
    if (o.name != nullptr) c.name = o.name;
    c.persistent = o.persistent != 0;
    if (o.oversize != HEAPWISE_OVERSIZE_TO_DISK && o.oversize != HEAPWISE_OVERSIZE_REFUSE) {
        throw std::invalid_argument("oversize must be HEAPWISE_OVERSIZE_TO_DISK or _REFUSE, got " +
                                    std::to_string(o.oversize));
    }
    c.oversize = o.oversize == HEAPWISE_OVERSIZE_REFUSE ? Oversize::reject : Oversize::spill;
    c.shards = o.shards;
    c.allocator = o.system_allocator != 0 ? Allocator::system : Allocator::mimalloc;
    c.default_ttl = ttl_from_ms(o.default_ttl_ms);
    if (o.listener != nullptr) {
        c.listener = [fn = o.listener, user = o.listener_user](const EvictionEvent& e) {
            const heapwise_eviction_event ce{
                e.key.data(),      e.key.size(), static_cast<int>(e.cause),
                e.to_disk ? 1 : 0, e.bytes,      e.reason.data(),
                e.reason.size()};
            fn(&ce, user);
        };
    }
    return c;
}

std::span<std::byte> out_span(void* buf, std::size_t cap) {
    return {static_cast<std::byte*>(buf), buf == nullptr ? 0 : cap};
}

}  // namespace
}  // namespace heapwise::api

using heapwise::api::as_view;
using heapwise::api::fail;
using heapwise::api::guarded;
using heapwise::api::valid_span;

extern "C" {

HEAPWISE_API void heapwise_cache_options_init(heapwise_cache_options* options) {
    if (options == nullptr) return;
    const heapwise::CacheOptions d;
    *options = heapwise_cache_options{};
    options->max_memory = d.max_memory;
    options->max_disk = d.max_disk;
    options->persistent = d.persistent ? 1 : 0;
    options->oversize = HEAPWISE_OVERSIZE_TO_DISK;
    options->shards = d.shards;
    options->system_allocator = d.allocator == heapwise::Allocator::system ? 1 : 0;
    options->default_ttl_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(d.default_ttl).count());
}

HEAPWISE_API heapwise_status heapwise_cache_create(const heapwise_cache_options* options,
                                                   heapwise_cache_t** out) {
    constexpr const char* what = "heapwise_cache_create";
    HW_CAPI_REQUIRE(out != nullptr, what);
    *out = nullptr;
    HW_CAPI_REQUIRE(options != nullptr, what);
    return guarded(what, [&] {
        *out = new heapwise_cache(heapwise::api::to_options(*options));
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_cache_destroy(heapwise_cache_t* cache) {
    // ~Cache removes the spill directory; it must not throw, but keep the promise regardless.
    (void)guarded("heapwise_cache_destroy", [&] {
        delete cache;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_set(heapwise_cache_t* cache, const void* key,
                                                size_t key_len, const void* value, size_t value_len,
                                                unsigned flags, uint64_t ttl_ms) {
    constexpr const char* what = "heapwise_cache_set";
    HW_CAPI_REQUIRE(cache != nullptr, what);
    HW_CAPI_REQUIRE(valid_span(key, key_len) && valid_span(value, value_len), what);
    HW_CAPI_REQUIRE((flags & ~unsigned{HEAPWISE_SET_FORCE_DISK}) == 0, what);
    return guarded(what, [&] {
        heapwise::SetOptions so{.force_disk = (flags & HEAPWISE_SET_FORCE_DISK) != 0,
                                .ttl = heapwise::api::ttl_from_ms(ttl_ms)};
        cache->cache.set(as_view(key, key_len), as_view(value, value_len), so);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_get(heapwise_cache_t* cache, const void* key,
                                                size_t key_len, void* buf, size_t buf_cap,
                                                size_t* value_len) {
    constexpr const char* what = "heapwise_cache_get";
    HW_CAPI_REQUIRE(cache != nullptr && value_len != nullptr && valid_span(key, key_len), what);
    *value_len = 0;
    return guarded(what, [&] {
        const auto span = heapwise::api::out_span(buf, buf_cap);
        const heapwise::Lookup l = cache->cache.get_into(as_view(key, key_len), span);
        if (!l.found) return HEAPWISE_NOT_FOUND;
        *value_len = l.size;
        return l.size <= span.size() ? HEAPWISE_OK : HEAPWISE_TOO_SMALL;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_get_alloc(heapwise_cache_t* cache, const void* key,
                                                      size_t key_len, void** value,
                                                      size_t* value_len) {
    constexpr const char* what = "heapwise_cache_get_alloc";
    HW_CAPI_REQUIRE(cache != nullptr && value != nullptr && value_len != nullptr, what);
    HW_CAPI_REQUIRE(valid_span(key, key_len), what);
    *value = nullptr;
    *value_len = 0;
    return guarded(what, [&] {
        std::optional<heapwise::Bytes> v = cache->cache.get(as_view(key, key_len));
        if (!v) return HEAPWISE_NOT_FOUND;
        const heapwise_status st = heapwise::api::copy_to_caller(*v, value);
        if (st == HEAPWISE_OK) *value_len = v->size();
        return st;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_get_into(heapwise_cache_t* cache, const void* key,
                                                     size_t key_len, void* buf, size_t buf_cap,
                                                     void** value_alloc, size_t* value_len) {
    constexpr const char* what = "heapwise_cache_get_into";
    HW_CAPI_REQUIRE(cache != nullptr && value_alloc != nullptr && value_len != nullptr, what);
    HW_CAPI_REQUIRE(valid_span(key, key_len), what);
    *value_alloc = nullptr;
    *value_len = 0;
    return guarded(what, [&] {
        const auto span = heapwise::api::out_span(buf, buf_cap);
        heapwise::Bytes overflow;
        const heapwise::Lookup l = cache->cache.get_into(as_view(key, key_len), span, overflow);
        if (!l.found) return HEAPWISE_NOT_FOUND;
        if (l.size > span.size()) {
            const heapwise_status st = heapwise::api::copy_to_caller(overflow, value_alloc);
            if (st != HEAPWISE_OK) return st;
        }
        *value_len = l.size;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_get_shared(heapwise_cache_t* cache, const void* key,
                                                       size_t key_len, void* buf, size_t buf_cap,
                                                       size_t* value_len, heapwise_value_t** value,
                                                       const void** data) {
    constexpr const char* what = "heapwise_cache_get_shared";
    HW_CAPI_REQUIRE(cache != nullptr && value_len != nullptr && value != nullptr && data != nullptr,
                    what);
    HW_CAPI_REQUIRE(valid_span(key, key_len), what);
    *value_len = 0;
    *value = nullptr;
    *data = nullptr;
    return guarded(what, [&] {
        const auto span = heapwise::api::out_span(buf, buf_cap);
        std::optional<heapwise::SharedBytes> v = cache->cache.get_shared(as_view(key, key_len));
        if (!v) return HEAPWISE_NOT_FOUND;
        *value_len = v->size();
        if (v->size() <= span.size()) {  // small: a copy in the caller's buffer, no reference
            if (!v->empty()) std::memcpy(span.data(), v->data(), v->size());
            *data = span.data();
        } else {
            *data = v->data();
            *value = static_cast<heapwise_value_t*>(heapwise::api::SharedAccess::into_raw(std::move(*v)));
        }
        return HEAPWISE_OK;
    });
}

HEAPWISE_API void heapwise_value_release(heapwise_value_t* value) {
    if (value != nullptr) heapwise::api::SharedAccess::release_raw(value);
}

HEAPWISE_API heapwise_status heapwise_cache_erase(heapwise_cache_t* cache, const void* key,
                                                  size_t key_len) {
    constexpr const char* what = "heapwise_cache_erase";
    HW_CAPI_REQUIRE(cache != nullptr && valid_span(key, key_len), what);
    return guarded(what, [&] {
        return cache->cache.erase(as_view(key, key_len)) ? HEAPWISE_OK : HEAPWISE_NOT_FOUND;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_contains(heapwise_cache_t* cache, const void* key,
                                                     size_t key_len) {
    constexpr const char* what = "heapwise_cache_contains";
    HW_CAPI_REQUIRE(cache != nullptr && valid_span(key, key_len), what);
    return guarded(what, [&] {
        return cache->cache.contains(as_view(key, key_len)) ? HEAPWISE_OK : HEAPWISE_NOT_FOUND;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_clear(heapwise_cache_t* cache) {
    HW_CAPI_REQUIRE(cache != nullptr, "heapwise_cache_clear");
    return guarded("heapwise_cache_clear", [&] {
        cache->cache.clear();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_cleanup(heapwise_cache_t* cache) {
    HW_CAPI_REQUIRE(cache != nullptr, "heapwise_cache_cleanup");
    return guarded("heapwise_cache_cleanup", [&] {
        cache->cache.cleanup();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_stats_get(heapwise_cache_t* cache,
                                                      heapwise_cache_stats* out) {
    HW_CAPI_REQUIRE(cache != nullptr && out != nullptr, "heapwise_cache_stats_get");
    return guarded("heapwise_cache_stats_get", [&] {
        const heapwise::CacheStats s = cache->cache.stats();
        *out = heapwise_cache_stats{};
        out->items = s.items;
        out->memory_items = s.memory_items;
        out->memory_bytes = s.memory_bytes;
        out->disk_items = s.disk_items;
        out->disk_bytes = s.disk_bytes;
        out->memory_limit = s.memory_limit;
        out->max_memory = s.max_memory;
        out->max_disk = s.max_disk;
        out->hits = s.hits;
        out->misses = s.misses;
        out->disk_hits = s.disk_hits;
        out->evictions = s.evictions;
        out->spills = s.spills;
        out->disk_evictions = s.disk_evictions;
        out->promotions = s.promotions;
        out->expirations = s.expirations;
        out->corrupt = s.corrupt;
        out->missing = s.missing;
        out->disk_errors = s.disk_errors;
        out->spill_enabled = s.spill_enabled ? 1 : 0;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_set_memory_limit(heapwise_cache_t* cache,
                                                             uint64_t max_memory, uint64_t* moved) {
    constexpr const char* what = "heapwise_cache_set_memory_limit";
    HW_CAPI_REQUIRE(cache != nullptr, what);
    HW_CAPI_REQUIRE(max_memory > 0, what);
    return guarded(what, [&] {
        const std::size_t m = cache->cache.set_memory_limit(max_memory, "set_memory_limit");
        if (moved != nullptr) *moved = m;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_spill(heapwise_cache_t* cache, double fraction,
                                                  uint64_t* moved) {
    constexpr const char* what = "heapwise_cache_spill";
    HW_CAPI_REQUIRE(cache != nullptr, what);
    HW_CAPI_REQUIRE(fraction > 0.0 && fraction <= 1.0, what);  // also rejects NaN
    return guarded(what, [&] {
        const std::size_t m = fraction >= 1.0
                                  ? cache->cache.spill_all("heapwise_cache_spill")
                                  : cache->cache.spill_coldest(fraction, "heapwise_cache_spill");
        if (moved != nullptr) *moved = m;
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_cache_spill_path(heapwise_cache_t* cache, char* buf,
                                                       size_t buf_cap, size_t* len) {
    constexpr const char* what = "heapwise_cache_spill_path";
    HW_CAPI_REQUIRE(cache != nullptr && len != nullptr && valid_span(buf, buf_cap), what);
    return guarded(what, [&] {
        const std::string p = cache->cache.spill_path();
        *len = p.size() + 1;
        if (p.size() + 1 > buf_cap) return HEAPWISE_TOO_SMALL;
        std::memcpy(buf, p.c_str(), p.size() + 1);
        return HEAPWISE_OK;
    });
}

}  // extern "C"
