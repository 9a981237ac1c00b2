// MaxDownsampler's slow path: widening the buckets. It runs at most 64 times per series, each
// pass over at most max_buckets points, so the per-sample cost stays a shift and a compare.
#include "analyzer/timeline/downsample.hpp"

#include <algorithm>
#include <stdexcept>

namespace heapwise::analyzer {

MaxDownsampler::MaxDownsampler(std::size_t max_buckets) : max_buckets_(max_buckets) {
    if (max_buckets < 2) throw std::invalid_argument("a timeline needs at least 2 points");
    // Grows as needed: a large limit must not cost its memory up front.
    buckets_.reserve(std::min<std::size_t>(max_buckets, 4096));
}

std::uint64_t MaxDownsampler::coarsen_for(std::uint64_t time_ns) {
    // With max_buckets >= 2 every time fits once shift_ reaches 63 (index 0 or 1).
    while ((time_ns >> shift_) >= max_buckets_) {
        ++shift_;
        std::size_t out = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            Bucket b = buckets_[i];
            b.index >>= 1;
            if (out > 0 && buckets_[out - 1].index == b.index) {
                // Strictly greater: on a tie the earlier sample stays, so a maximum keeps the
                // time it was first reached.
                if (b.point.value > buckets_[out - 1].point.value) buckets_[out - 1].point = b.point;
            } else {
                buckets_[out++] = b;
            }
        }
        buckets_.resize(out);
    }
    return time_ns >> shift_;
}

std::vector<SeriesPoint> MaxDownsampler::points() const {
    std::vector<SeriesPoint> out;
    out.reserve(buckets_.size());
    for (const Bucket& b : buckets_) out.push_back(b.point);
    return out;
}

}  // namespace heapwise::analyzer
