// The monitor's rolling window: the last N samples of the metric (time, bytes, percent) in a
// ring, and the statistics over them. push() never allocates (the ring is sized up front);
// stats() sorts a copy for the percentiles and is meant for callers, not the sampling loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "heapwise/monitor.hpp"

namespace heapwise::api {

class RollingWindow {
public:
    explicit RollingWindow(std::size_t capacity);
    void push(std::chrono::steady_clock::time_point t, std::uint64_t bytes, double percent);
    WindowStats stats() const;
    std::size_t size() const noexcept { return count_; }

private:
    struct Sample {
        std::chrono::steady_clock::time_point t;
        std::uint64_t bytes;
        double percent;
    };
    const Sample& at(std::size_t i) const { return ring_[(head_ + i) % ring_.size()]; }  // 0 = oldest

    std::vector<Sample> ring_;
    std::size_t head_ = 0;   // oldest sample
    std::size_t count_ = 0;
};

}  // namespace heapwise::api
