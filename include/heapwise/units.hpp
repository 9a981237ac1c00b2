// Byte-size literals shared by the C++ API: `using namespace heapwise::literals;` then 200_MiB.
#pragma once

#include <cstddef>

namespace heapwise::literals {

constexpr std::size_t operator""_B(unsigned long long v) { return static_cast<std::size_t>(v); }
constexpr std::size_t operator""_KiB(unsigned long long v) { return static_cast<std::size_t>(v) << 10; }
constexpr std::size_t operator""_MiB(unsigned long long v) { return static_cast<std::size_t>(v) << 20; }
constexpr std::size_t operator""_GiB(unsigned long long v) { return static_cast<std::size_t>(v) << 30; }

}  // namespace heapwise::literals
