// CRC-32C (Castagnoli), the checksum of trace blocks (trace_format.hpp) and spill files: the
// SSE4.2 `crc32` instruction, 8 bytes at a time, when the CPU has it; else slicing-by-8 tables.
// Every variant gives the bits of the bytewise reference (crc32c_bytewise). Freestanding like
// trace_format.hpp: no allocation, no exceptions, no statics with constructors or destructors, so
// the shim's writer thread and code running in early constructors may call it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace heapwise::format {

namespace detail {
// kCrc32cTables[0] is the classic bytewise table; table k advances a byte k more bytes (slicing).
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc32c_tables() noexcept {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
}
inline constexpr auto kCrc32cTables = make_crc32c_tables();
}  // namespace detail

// The definition, one byte per step: the reference the faster variants are tested against.
inline std::uint32_t crc32c_bytewise(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) crc = detail::kCrc32cTables[0][(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

// Slicing-by-8: eight table lookups per 8 bytes, independent of each other. Assumes little endian,
// as the whole format does.
inline std::uint32_t crc32c_portable(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    const auto& t = detail::kCrc32cTables;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint32_t lo;
        std::uint32_t hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
// One dependent chain of crc32q: 8 bytes per ~3 cycles. Interleaved streams would be faster on
// long buffers, but at this speed the checksum is already well under 1 % of reading a trace
// (docs/benchmarks.md, "Analyzer: the trace decoder"), so the simple loop stays.
[[gnu::target("sse4.2")]] inline std::uint32_t crc32c_sse42(const void* data, std::size_t n,
                                                             std::uint32_t crc = 0) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::uint64_t c = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
    }
    auto c32 = static_cast<std::uint32_t>(c);
    for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
}

namespace detail {
// 0 not yet known, 1 no SSE4.2, 2 SSE4.2. Constant-initialized, so usable before any constructor;
// a race only repeats the (idempotent) CPU probe.
inline std::atomic<int> crc32c_cpu{0};
}  // namespace detail

inline bool crc32c_have_sse42() noexcept {
    int known = detail::crc32c_cpu.load(std::memory_order_relaxed);
    if (known == 0) {
        __builtin_cpu_init();  // libgcc's probe may not have run yet in an early constructor
        known = __builtin_cpu_supports("sse4.2") ? 2 : 1;
        detail::crc32c_cpu.store(known, std::memory_order_relaxed);
    }
    return known == 2;
}
#endif

// `crc` continues a previous call's result: crc32c(b, m, crc32c(a, n)) is the crc of a then b.
inline std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept {
#if defined(__x86_64__)
    if (crc32c_have_sse42()) return crc32c_sse42(data, n, crc);
#endif
    return crc32c_portable(data, n, crc);
}

}  // namespace heapwise::format
