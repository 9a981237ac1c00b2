// The tracer's live view (include/heapwise/tracer_live.h) inside the shim: the program-side calls
// (enable, snapshot, release, stack frames, the internal bracket) and the writer-side hooks that
// feed the LiveAggregator in merged time order. The C entry points in api.cpp forward here.
// Thread roles: live_writer_* run on the writer thread only; the rest on any program thread.
#pragma once

#include <cstdint>

#include "event.hpp"
#include "heapwise/tracer_live.h"

namespace heapwise::preload {

struct ThreadState;

// ---- program side ----
int live_enable() noexcept;
int live_snapshot(const char* label, heapwise_live_snapshot* out) noexcept;
void live_release(heapwise_live_snapshot* snap) noexcept;
int live_stack_frames(std::uint32_t stack, std::uintptr_t* frames, int max) noexcept;
int internal_begin() noexcept;
void internal_end(int token) noexcept;
// Whether this thread is inside heapwise_tracer_internal_begin/_end (read by the hot path).
[[gnu::tls_model("initial-exec")]] extern thread_local constinit int tls_internal;

// ---- session (start/stop, under the lifecycle lock, before the writer thread runs) ----
// A new trace: aggregation on from its start when `from_start` (HEAPWISE_LIVE=1, or it was on
// in the session before, e.g. the parent of a fork child); figures forgotten.
void live_session_start(bool from_start, std::uint64_t sample_interval, std::uint32_t internal_stack) noexcept;
bool live_was_on() noexcept;
void live_forget_in_child() noexcept;  // fork child: nobody waits, the parent's state may be torn

// ---- writer side ----
// Events stamped at or after this are aggregated (UINT64_MAX: aggregation off). Read once a round.
std::uint64_t live_from_ns() noexcept;
void live_writer_event(ThreadState* ts, const Event& e) noexcept;
// A kMarker event carrying a snapshot request (Event.size != 0): answers it. `ok` false when the
// writer cannot (it failed): the caller gets ECANCELED. lost: events dropped so far.
void live_writer_marker(std::uint64_t request, std::uint64_t time_ns, std::uint64_t lost, bool ok) noexcept;

}  // namespace heapwise::preload
