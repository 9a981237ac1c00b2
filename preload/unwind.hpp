// The unwinding seam. capture() fills `out` with return addresses, leaf first: out[0] is the
// return address of capture()'s caller (an address inside the caller's caller), after dropping
// `skip` further frames. Returns the number of frames written. One file per backend; the backend
// is chosen once, before tracing starts. Hot path: never allocates, never locks.
#pragma once

#include <cstdint>
#include <span>

#include "heapwise/trace_format.hpp"

namespace heapwise::preload {

void set_unwinder(format::Unwinder u) noexcept;
format::Unwinder current_unwinder() noexcept;

[[gnu::noinline]] int capture(std::span<std::uintptr_t> out, int skip) noexcept;

// Backends, same contract as capture() (out[0] is the return address of *their* caller).
[[gnu::noinline]] int capture_libunwind(std::span<std::uintptr_t> out, int skip) noexcept;
[[gnu::noinline]] int capture_frame_pointer(std::span<std::uintptr_t> out, int skip) noexcept;
[[gnu::noinline]] int capture_cached(std::span<std::uintptr_t> out, int skip) noexcept;

// The calling thread's stack bounds, needed by the frame-pointer walk to stay inside the stack.
// Called by thread registration (it may allocate inside pthread_getattr_np); lazily otherwise.
void init_thread_stack_bounds() noexcept;
// Forgets the calling thread's cached stack (the cached backend), e.g. after dlclose.
void reset_thread_unwind_cache() noexcept;

}  // namespace heapwise::preload
