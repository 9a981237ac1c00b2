// CRC-32C (Castagnoli) over spill files, hardware-accelerated where available. Same values as
// format::crc32c; `crc` continues a previous call's result.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heapwise/export.h"

namespace heapwise::api {

HEAPWISE_API std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;
// The table-driven version (slicing-by-8), exported for the test that checks both agree.
HEAPWISE_API std::uint32_t crc32c_portable(const void* data, std::size_t n,
                                           std::uint32_t crc = 0) noexcept;

}  // namespace heapwise::api
