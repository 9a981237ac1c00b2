// The C ABI's shared pieces: thread-local last error, exception → status mapping, status and cause
// names, struct sizes for bindings, and the allocator of buffers handed to callers (mimalloc, so
// heapwise_free is mi_free whatever allocator the caller's program uses).
#include <mimalloc.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "capi_guard.hpp"
#include "heapwise/cache.hpp"
#include "heapwise/heapwise.h"

namespace heapwise::api {
namespace {

// Fixed size so that recording bad_alloc never allocates; long messages are truncated.
thread_local char t_last_error[512] = "";
thread_local int t_last_errno = 0;

}  // namespace

heapwise_status fail(heapwise_status status, std::string_view what, std::string_view detail,
                     int err) noexcept {
    t_last_errno = err;
    std::snprintf(t_last_error, sizeof t_last_error, "%.*s: %.*s", static_cast<int>(what.size()),
                  what.data(), static_cast<int>(detail.size()), detail.data());
    return status;
}

heapwise_status fail_current(std::string_view what) noexcept {
    try {
        throw;
    } catch (const CacheError& e) {
        return fail(e.code() == CacheError::Code::too_big ? HEAPWISE_ETOOBIG : HEAPWISE_EIO, what,
                    e.what());
    } catch (const std::invalid_argument& e) {
        return fail(HEAPWISE_EINVAL, what, e.what());
    } catch (const std::out_of_range& e) {
        return fail(HEAPWISE_EINVAL, what, e.what());
    } catch (const std::bad_alloc&) {
        return fail(HEAPWISE_ENOMEM, what, "out of memory");
    } catch (const std::system_error& e) {
        // filesystem_error and ios failures land here; ENOMEM from the OS stays ENOMEM.
        const bool oom = e.code() == std::errc::not_enough_memory;
        const bool os = e.code().category() == std::generic_category() ||
                        e.code().category() == std::system_category();
        return fail(oom ? HEAPWISE_ENOMEM : HEAPWISE_EIO, what, e.what(),
                    os ? e.code().value() : 0);
    } catch (const std::exception& e) {
        return fail(HEAPWISE_EINTERNAL, what, e.what());
    } catch (...) {
        return fail(HEAPWISE_EINTERNAL, what, "unknown exception");
    }
}

void* alloc_for_caller(std::size_t n) noexcept {
    // mi_malloc(0) may return NULL-free unique pointers, but be explicit: OK means non-NULL.
    return mi_malloc(n == 0 ? 1 : n);
}

}  // namespace heapwise::api

extern "C" {

HEAPWISE_API const char* heapwise_last_error(void) {
    return heapwise::api::t_last_error;
}

HEAPWISE_API int heapwise_last_errno(void) {
    return heapwise::api::t_last_errno;
}

HEAPWISE_API const char* heapwise_status_name(int status) {
    switch (status) {
        case HEAPWISE_OK:
            return "HEAPWISE_OK";
        case HEAPWISE_NOT_FOUND:
            return "HEAPWISE_NOT_FOUND";
        case HEAPWISE_TOO_SMALL:
            return "HEAPWISE_TOO_SMALL";
        case HEAPWISE_EINVAL:
            return "HEAPWISE_EINVAL";
        case HEAPWISE_ENOMEM:
            return "HEAPWISE_ENOMEM";
        case HEAPWISE_EIO:
            return "HEAPWISE_EIO";
        case HEAPWISE_ETOOBIG:
            return "HEAPWISE_ETOOBIG";
        case HEAPWISE_ESTATE:
            return "HEAPWISE_ESTATE";
        case HEAPWISE_EINTERNAL:
            return "HEAPWISE_EINTERNAL";
        default:
            return "HEAPWISE_UNKNOWN_STATUS";
    }
}

HEAPWISE_API void heapwise_free(void* p) {
    mi_free(p);
}

HEAPWISE_API int heapwise_abi_version(void) {
    return HEAPWISE_ABI_VERSION;
}

HEAPWISE_API size_t heapwise_struct_size(const char* name) {
    if (name == nullptr) return 0;
    const std::string_view n(name);
    if (n == "heapwise_cache_options") return sizeof(heapwise_cache_options);
    if (n == "heapwise_cache_stats") return sizeof(heapwise_cache_stats);
    if (n == "heapwise_eviction_event") return sizeof(heapwise_eviction_event);
    if (n == "heapwise_memory_stats") return sizeof(heapwise_memory_stats);
    if (n == "heapwise_monitor_options") return sizeof(heapwise_monitor_options);
    if (n == "heapwise_reading") return sizeof(heapwise_reading);
    if (n == "heapwise_window_stats") return sizeof(heapwise_window_stats);
    if (n == "heapwise_attach_options") return sizeof(heapwise_attach_options);
    if (n == "heapwise_cleanup_step") return sizeof(heapwise_cleanup_step);
    if (n == "heapwise_cleanup_summary") return sizeof(heapwise_cleanup_summary);
    return 0;
}

HEAPWISE_API const char* heapwise_evict_cause_name(int cause) {
    switch (cause) {
        case HEAPWISE_EVICTED:
            return "evicted";
        case HEAPWISE_SPILLED:
            return "spilled";
        case HEAPWISE_EXPIRED:
            return "expired";
        case HEAPWISE_REMOVED:
            return "removed";
        case HEAPWISE_REPLACED:
            return "replaced";
        case HEAPWISE_PRESSURE:
            return "pressure";
        default:
            return "";
    }
}

}  // extern "C"
