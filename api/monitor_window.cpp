// Statistics over the monitor's rolling window (see monitor_window.hpp): min, max, mean,
// nearest-rank percentiles, the least-squares trend in bytes per second and the growth.
#include "monitor_window.hpp"

#include <algorithm>

namespace heapwise::api {

RollingWindow::RollingWindow(std::size_t capacity) : ring_(capacity) {}

void RollingWindow::push(std::chrono::steady_clock::time_point t, std::uint64_t bytes,
                         double percent) {
    Sample s{t, bytes, percent};
    if (count_ < ring_.size()) {
        ring_[(head_ + count_) % ring_.size()] = s;
        ++count_;
    } else {
        ring_[head_] = s;  // overwrite the oldest
        head_ = (head_ + 1) % ring_.size();
    }
}

namespace {

// Nearest rank: the smallest value with at least num/den of the samples at or below it.
std::uint64_t rank(const std::vector<std::uint64_t>& sorted, std::size_t num, std::size_t den) {
    std::size_t n = sorted.size();
    std::size_t r = (num * n + den - 1) / den;  // ceil(q * n), at least 1 for n >= 1
    return sorted[std::max<std::size_t>(r, 1) - 1];
}

}  // namespace

WindowStats RollingWindow::stats() const {
    WindowStats w;
    w.count = count_;
    if (count_ == 0) return w;
    std::vector<std::uint64_t> sorted(count_);
    double sum = 0.0, sum_percent = 0.0;
    const auto t0 = at(0).t;
    double mean_x = 0.0;
    for (std::size_t i = 0; i < count_; ++i) {
        const Sample& s = at(i);
        sorted[i] = s.bytes;
        sum += static_cast<double>(s.bytes);
        sum_percent += s.percent;
        mean_x += std::chrono::duration<double>(s.t - t0).count();
    }
    const double n = static_cast<double>(count_);
    w.mean = sum / n;
    w.mean_percent = sum_percent / n;
    w.last_percent = at(count_ - 1).percent;
    mean_x /= n;
    double sxy = 0.0, sxx = 0.0;
    for (std::size_t i = 0; i < count_; ++i) {
        const Sample& s = at(i);
        double dx = std::chrono::duration<double>(s.t - t0).count() - mean_x;
        sxy += dx * (static_cast<double>(s.bytes) - w.mean);
        sxx += dx * dx;
    }
    w.slope = sxx > 0.0 ? sxy / sxx : 0.0;
    w.growth = static_cast<std::int64_t>(at(count_ - 1).bytes) - static_cast<std::int64_t>(at(0).bytes);
    w.seconds = std::chrono::duration<double>(at(count_ - 1).t - t0).count();
    std::sort(sorted.begin(), sorted.end());
    w.min = sorted.front();
    w.max = sorted.back();
    w.p50 = rank(sorted, 50, 100);
    w.p90 = rank(sorted, 90, 100);
    w.p99 = rank(sorted, 99, 100);
    return w;
}

}  // namespace heapwise::api
