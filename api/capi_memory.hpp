// Conversions between heapwise::MemoryStats and the C ABI's flat heapwise_memory_stats, shared by
// the memory-statistics and monitor parts of the ABI.
#pragma once

#include "heapwise/heapwise.h"
#include "heapwise/memory.hpp"

namespace heapwise::api {

void to_c(const MemoryStats& s, heapwise_memory_stats& out) noexcept;
// The reverse, for a memory source written in C; out-of-range sources become Source::none.
MemoryStats from_c(const heapwise_memory_stats& c) noexcept;
// 0 means every part.
StatsParts parts_from_c(unsigned parts);

}  // namespace heapwise::api
