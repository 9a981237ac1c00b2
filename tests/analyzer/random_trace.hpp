// Random multi-block traces for the tests that compare two ways of reading one trace (a run of
// heap events against one event at a time): a churn of allocations over a bounded set of
// addresses with frees (some of unknown addresses, some of NULL), realloc frees (half of them
// failing), allocations at address 0, markers and RSS samples, sizes of 4 GiB and more, stack ids
// beyond a table slot's 24 bits, long varints; optionally internal stacks, sampling and damage.
#pragma once

#include <cstdint>

#include "trace_bytes.hpp"

namespace heapwise::test {

struct TraceShape {
    bool damage = false;          // a bad record in the third block and a broken crc in the fifth
    int internal = 0;             // internal stacks: 7 from the start, 9 from the fourth block on
    std::uint64_t sampled = 0;    // a sampled trace's mean interval (0: lossless)
};

// A whole file (header and `blocks` blocks), the same for the same seed and shape.
Bytes random_trace(std::uint64_t seed, int blocks, const TraceShape& shape = {});

}  // namespace heapwise::test
