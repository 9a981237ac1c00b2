// Weak references to the tracer's live view, checked before every use: a program that runs
// without the tracer (or with an older one) gets a typed error, never a call through null.
#include "tracer_link.hpp"

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "heapwise/heapwise.h"
#include "heapwise/leak_detector.hpp"

namespace heapwise::api {

InternalScope::InternalScope() noexcept {
    if (heapwise_tracer_internal_begin != nullptr && heapwise_tracer_internal_end != nullptr) {
        token_ = heapwise_tracer_internal_begin();
        active_ = true;
    }
}

InternalScope::~InternalScope() {
    if (active_) heapwise_tracer_internal_end(token_);
}

bool tracer_has_live_view() noexcept {
    return heapwise_tracer_live_enable != nullptr && heapwise_tracer_live_snapshot != nullptr &&
           heapwise_tracer_live_release != nullptr && heapwise_tracer_stack_frames != nullptr &&
           heapwise_tracer_internal_begin != nullptr && heapwise_tracer_internal_end != nullptr;
}

bool tracer_recording() noexcept {
    return heapwise_tracer_active != nullptr && heapwise_tracer_active() == 1;
}

namespace {

[[noreturn]] void no_tracer() {
    throw DetectorError(DetectorError::Code::no_tracer,
                        "heapwise::LeakDetector: the heapwise tracer is not recording in this "
                        "process (run it under LD_PRELOAD=libheapwise_preload.so or `heapwise "
                        "record`, or link libheapwise_preload.so into the program)");
}

[[noreturn]] void no_live_view(const char* why) {
    throw DetectorError(DetectorError::Code::no_live_view,
                        std::string("heapwise::LeakDetector: the tracer has no live view: ") + why);
}

}  // namespace

bool enable_live_view() {
    if (heapwise_tracer_active == nullptr) no_tracer();
    if (!tracer_has_live_view()) {
        no_live_view("libheapwise_preload.so lacks heapwise_tracer_live_* (an older tracer)");
    }
    const int r = heapwise_tracer_live_enable();
    if (r < 0 || !tracer_recording()) no_tracer();
    return r == 1;
}

LiveCopy take_live_snapshot(const std::string& label) {
    if (!tracer_has_live_view()) no_tracer();
    heapwise_live_snapshot snap{};
    if (heapwise_tracer_live_snapshot(label.c_str(), &snap) != 0) {
        const int err = errno;
        if (err == ECANCELED) no_live_view("the tracer's writer has stopped");
        if (!tracer_recording()) no_tracer();
        no_live_view(err == EINVAL ? "live aggregation is off" : std::strerror(err));
    }
    struct Release {
        heapwise_live_snapshot* s;
        ~Release() { heapwise_tracer_live_release(s); }
    } release{&snap};
    if (snap.abi != HEAPWISE_LIVE_ABI) no_live_view("the tracer speaks another live-view ABI");
    LiveCopy out;
    out.pid = snap.pid;
    out.time_ns = snap.time_ns;
    out.since_ns = snap.since_ns;
    out.sample_interval = snap.sample_interval;
    out.live_bytes = snap.live_bytes;
    out.live_count = snap.live_count;
    out.lost_events = snap.lost_events;
    out.sites.assign(snap.sites, snap.sites + snap.nsites);
    return out;
}

std::vector<std::uint64_t> stack_frames(std::uint32_t stack) {
    std::vector<std::uint64_t> out;
    if (heapwise_tracer_stack_frames == nullptr) return out;
    std::uintptr_t buf[128];
    int n = heapwise_tracer_stack_frames(stack, buf, 128);
    if (n <= 0) return out;
    if (n <= 128) return std::vector<std::uint64_t>(buf, buf + n);
    std::vector<std::uintptr_t> big(static_cast<std::size_t>(n));
    n = heapwise_tracer_stack_frames(stack, big.data(), n);
    if (n <= 0) return out;
    big.resize(std::min(big.size(), static_cast<std::size_t>(n)));
    return std::vector<std::uint64_t>(big.begin(), big.end());
}

}  // namespace heapwise::api
