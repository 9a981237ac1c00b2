// The key picker of the cache benchmarks: xorshift64*, cheap enough per operation not to hide
// the cache's own cost. One per thread. Shared by cache_bench and cache_count so both measure
// the same access sequence.
#pragma once

#include <cstddef>
#include <cstdint>

struct Rng {
    std::uint64_t s;
    std::size_t below(std::size_t n) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return static_cast<std::size_t>((s * 2685821657736338717ull) >> 33) % n;
    }
};
