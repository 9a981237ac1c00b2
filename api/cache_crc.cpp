// CRC-32C for spill files: the format's checksum (heapwise/crc32c.hpp: the SSE4.2 instruction
// when the CPU has it, slicing-by-8 otherwise), exported so the cache and its tests share it.
#include "cache_crc.hpp"

#include "heapwise/crc32c.hpp"

namespace heapwise::api {

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc) noexcept {
    return format::crc32c(data, n, crc);
}

std::uint32_t crc32c_portable(const void* data, std::size_t n, std::uint32_t crc) noexcept {
    return format::crc32c_portable(data, n, crc);
}

}  // namespace heapwise::api
