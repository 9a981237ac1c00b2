// A stand-in for the tracer's live view (heapwise/tracer_live.h) for the detector's unit tests:
// the test executable defines the entry points itself (exported, so libheapwise's weak
// references bind to them) and each test sets the per-stack figures and frames the "tracer"
// reports. The detector under test is the real libheapwise; only its input is scripted.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace heapwise::test {

struct FakeSite {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t allocs = 0;
    std::uint64_t bytes_allocated = 0;
};

struct FakeTracer {
    std::mutex mu;
    bool active = true;
    int enable_result = 1;          // heapwise_tracer_live_enable's answer
    int snapshot_errno = 0;         // non-zero: heapwise_tracer_live_snapshot fails with it
    std::uint32_t pid = 0;          // 0: getpid()
    std::uint64_t since_ns = 0;
    std::uint64_t sample_interval = 0;
    std::uint64_t lost_events = 0;
    std::uint64_t now_ns = 1000;    // advances by 1000 per snapshot
    std::map<std::uint32_t, FakeSite> sites;
    std::map<std::uint32_t, std::vector<std::uintptr_t>> stacks;
    std::vector<std::string> markers;
    std::vector<int> depth_at_snapshot;  // internal-bracket depth of the caller, per snapshot
    std::uint64_t frame_calls = 0;
    std::uint64_t internal_begins = 0;
};

FakeTracer& fake();
void reset_fake();
// The calling thread's current internal-bracket depth.
int internal_depth();

}  // namespace heapwise::test
