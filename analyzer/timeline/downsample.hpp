// Streaming max-downsampling of a time series whose length is not known in advance: samples
// fall into time buckets of 2^shift nanoseconds counted from time 0; when a sample lands past
// the last of max_buckets buckets, the width doubles and neighbouring buckets merge. Each bucket
// keeps its largest sample (the earliest on ties) with that sample's own time, so a series'
// maximum is never lost and stays at its exact time. Memory: max_buckets points, whatever the
// number of samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace heapwise::analyzer {

struct SeriesPoint {
    std::uint64_t time_ns = 0;
    std::uint64_t value = 0;
    std::uint64_t extra = 0;  // carried along with the value (e.g. the heap at an RSS sample)
};

class MaxDownsampler {
public:
    // max_buckets >= 2 (std::invalid_argument otherwise).
    explicit MaxDownsampler(std::size_t max_buckets);

    // Samples must come in non-decreasing time order (callers clamp).
    void add(std::uint64_t time_ns, std::uint64_t value, std::uint64_t extra = 0) {
        std::uint64_t index = time_ns >> shift_;
        if (index >= max_buckets_) index = coarsen_for(time_ns);
        if (!buckets_.empty() && buckets_.back().index == index) {
            if (value > buckets_.back().point.value) buckets_.back().point = {time_ns, value, extra};
            return;
        }
        buckets_.push_back({index, {time_ns, value, extra}});
    }

    // The kept points, in time order: at most max_buckets.
    std::vector<SeriesPoint> points() const;
    std::size_t size() const noexcept { return buckets_.size(); }
    // Width of a bucket now: 1 while every distinct nanosecond still has its own bucket.
    std::uint64_t bucket_ns() const noexcept { return std::uint64_t{1} << shift_; }

private:
    struct Bucket {
        std::uint64_t index = 0;
        SeriesPoint point;
    };
    // Doubles the width until time_ns fits; returns its bucket index at the new width.
    std::uint64_t coarsen_for(std::uint64_t time_ns);

    std::size_t max_buckets_;
    unsigned shift_ = 0;
    std::vector<Bucket> buckets_;
};

}  // namespace heapwise::analyzer
