// The C ABI's one rule made mechanical: no C++ exception crosses into C. Every extern "C" entry
// point runs its body through guarded(), which maps the exception in flight to a heapwise_status
// and records a message for heapwise_last_error() in a thread-local fixed buffer (recording an
// error must not allocate: the error may be bad_alloc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "heapwise/heapwise.h"

namespace heapwise::api {

// Records "what: detail" (and the errno behind it, 0 if none) as this thread's last error and
// returns status.
heapwise_status fail(heapwise_status status, std::string_view what, std::string_view detail,
                     int err = 0) noexcept;

// The status and message of the exception being handled (call only inside a catch block).
heapwise_status fail_current(std::string_view what) noexcept;

template <class F>
heapwise_status guarded(std::string_view what, F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return fail_current(what);
    }
}

// A (pointer, length) pair from C: NULL is only valid with length 0.
inline bool valid_span(const void* p, std::size_t n) noexcept {
    return p != nullptr || n == 0;
}

inline std::string_view as_view(const void* p, std::size_t n) noexcept {
    return n == 0 ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
}

// Library-owned buffers handed to C callers; heapwise_free releases them.
void* alloc_for_caller(std::size_t n) noexcept;

}  // namespace heapwise::api

// Argument checks at the top of an entry point: EINVAL naming the failed condition.
#define HW_CAPI_REQUIRE(cond, what)                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            return ::heapwise::api::fail(HEAPWISE_EINVAL, what, "invalid argument: " #cond); \
        }                                                                                    \
    } while (0)
