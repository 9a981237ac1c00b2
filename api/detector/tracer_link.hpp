// The detector's only door to the tracer: the weak entry points of heapwise/tracer_live.h behind
// checks that turn "absent" or "refused" into DetectorError, an RAII bracket that keeps the
// detector's own allocations out of its results, and an owned copy of a live snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heapwise/tracer_live.h"

namespace heapwise::api {

// Allocations on this thread while one is alive are recorded under the tracer's internal stack.
// A no-op when the tracer (or its live view) is absent. Nestable.
class InternalScope {
public:
    InternalScope() noexcept;
    ~InternalScope();
    InternalScope(const InternalScope&) = delete;
    InternalScope& operator=(const InternalScope&) = delete;

private:
    int token_ = -1;
    bool active_ = false;
};

// Whether the tracer's live view entry points are present in this process.
bool tracer_has_live_view() noexcept;
// 1 while the tracer records this process (heapwise_tracer_active), else 0.
bool tracer_recording() noexcept;

// Turns aggregation on; returns true when it was already on since the trace began. Throws
// DetectorError(no_tracer | no_live_view).
bool enable_live_view();

// One site of a snapshot, kept in the tracer's layout (ascending stack id).
using LiveSite = heapwise_live_site;

struct LiveCopy {
    std::uint32_t pid = 0;
    std::uint64_t time_ns = 0;
    std::uint64_t since_ns = 0;
    std::uint64_t sample_interval = 0;
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t lost_events = 0;
    std::vector<LiveSite> sites;
};

// heapwise_tracer_live_snapshot, copied out and released. Throws DetectorError.
LiveCopy take_live_snapshot(const std::string& label);

// The stack's return addresses, leaf first (empty for the internal stack or an unknown id).
std::vector<std::uint64_t> stack_frames(std::uint32_t stack);

}  // namespace heapwise::api
