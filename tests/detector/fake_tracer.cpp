// The scripted live view: every entry point of heapwise/tracer_live.h, answering from fake().
#include "fake_tracer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "heapwise/heapwise.h"
#include "heapwise/tracer_live.h"

namespace heapwise::test {

namespace {
thread_local int t_depth = 0;
}

FakeTracer& fake() {
    static FakeTracer f;
    return f;
}

void reset_fake() {
    FakeTracer& f = fake();
    std::lock_guard lk(f.mu);
    f.active = true;
    f.enable_result = 1;
    f.snapshot_errno = 0;
    f.pid = 0;
    f.since_ns = 0;
    f.sample_interval = 0;
    f.lost_events = 0;
    f.now_ns = 1000;
    f.sites.clear();
    f.stacks.clear();
    f.markers.clear();
    f.depth_at_snapshot.clear();
    f.frame_calls = 0;
    f.internal_begins = 0;
}

int internal_depth() { return t_depth; }

}  // namespace heapwise::test

using heapwise::test::fake;

extern "C" {

__attribute__((visibility("default"))) int heapwise_tracer_active(void) {
    std::lock_guard lk(fake().mu);
    return fake().active ? 1 : 0;
}

__attribute__((visibility("default"))) int heapwise_tracer_snapshot(const char*) { return -1; }

__attribute__((visibility("default"))) int heapwise_tracer_live_enable(void) {
    std::lock_guard lk(fake().mu);
    return fake().active ? fake().enable_result : -1;
}

__attribute__((visibility("default"))) int heapwise_tracer_live_snapshot(const char* label,
                                                                         heapwise_live_snapshot* out) {
    auto& f = fake();
    std::lock_guard lk(f.mu);
    f.depth_at_snapshot.push_back(heapwise::test::t_depth);
    if (!f.active) {
        errno = ENOSYS;
        return -1;
    }
    if (f.snapshot_errno != 0) {
        errno = f.snapshot_errno;
        return -1;
    }
    f.markers.emplace_back(label);
    *out = heapwise_live_snapshot{};
    out->abi = HEAPWISE_LIVE_ABI;
    out->pid = f.pid != 0 ? f.pid : static_cast<std::uint32_t>(::getpid());
    out->time_ns = f.now_ns;
    f.now_ns += 1000;
    out->since_ns = f.since_ns;
    out->sample_interval = f.sample_interval;
    out->lost_events = f.lost_events;
    out->nsites = f.sites.size();
    out->sites = static_cast<heapwise_live_site*>(std::calloc(f.sites.size() + 1, sizeof(heapwise_live_site)));
    std::size_t i = 0;
    for (const auto& [stack, s] : f.sites) {
        out->sites[i++] = {stack, 0, s.live_bytes, s.live_count, s.allocs, s.bytes_allocated};
        out->live_bytes += s.live_bytes;
        out->live_count += s.live_count;
    }
    return 0;
}

__attribute__((visibility("default"))) void heapwise_tracer_live_release(heapwise_live_snapshot* snap) {
    if (snap == nullptr) return;
    std::free(snap->sites);
    snap->sites = nullptr;
}

__attribute__((visibility("default"))) int heapwise_tracer_stack_frames(uint32_t stack,
                                                                        uintptr_t* frames, int max) {
    auto& f = fake();
    std::lock_guard lk(f.mu);
    ++f.frame_calls;
    const auto it = f.stacks.find(stack);
    if (it == f.stacks.end()) return -1;
    const int n = static_cast<int>(it->second.size());
    for (int i = 0; i < n && i < max; ++i) frames[i] = it->second[static_cast<std::size_t>(i)];
    return n;
}

__attribute__((visibility("default"))) int heapwise_tracer_internal_begin(void) {
    {
        std::lock_guard lk(fake().mu);
        ++fake().internal_begins;
    }
    return heapwise::test::t_depth++;
}

__attribute__((visibility("default"))) void heapwise_tracer_internal_end(int token) {
    heapwise::test::t_depth = token;
}

}  // extern "C"
