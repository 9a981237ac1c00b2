// How much a block recorded in sampled mode (format::Mode::kSampled) stands for. One formula for
// every reader of the tracer's figures: the analyzer's heap replay and the tracer's own live
// aggregation, so a live snapshot and an offline replay of the same trace agree to the byte.
// Freestanding: no allocation, no exceptions; safe in the shim's writer thread.
#pragma once

#include <cmath>
#include <cstdint>

namespace heapwise::format {

struct SampleWeight {
    std::uint64_t bytes = 0;  // estimated bytes this one recorded block stands for
    std::uint64_t count = 0;  // estimated blocks it stands for
};

// A block of `size` bytes was recorded with probability p = 1 - exp(-size / interval) (a Poisson
// process over allocated bytes): it stands for 1/p blocks like it. Rounded per block so both
// sides keep integer arithmetic and add up identically. interval 0 (not sampled) or size 0:
// the block is itself.
inline SampleWeight sample_weight(std::uint64_t size, std::uint64_t interval) noexcept {
    if (interval == 0 || size == 0) return {size, 1};
    const double p = -std::expm1(-static_cast<double>(size) / static_cast<double>(interval));
    const double count = 1.0 / p;
    return {static_cast<std::uint64_t>(std::llround(static_cast<double>(size) * count)),
            static_cast<std::uint64_t>(std::llround(count))};
}

}  // namespace heapwise::format
