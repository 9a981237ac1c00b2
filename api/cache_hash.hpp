// The cache's key hash: 64 bits, fast on short and long keys (a multiply-fold mix in the style
// of wyhash), used for shard choice, table slots and spill file names. Not a cryptographic hash:
// the full key is always compared, in memory and in spill file headers. Its values are part of
// the persistent spill format (file names, checked when a directory is reopened): changing them
// would drop every persistent cache written before.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace heapwise::api {

__extension__ typedef unsigned __int128 HashU128;

inline std::uint64_t hash_mix(std::uint64_t a, std::uint64_t b) noexcept {
    HashU128 r = static_cast<HashU128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

inline std::uint64_t hash_load64(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline std::uint64_t hash_load32(const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline std::uint64_t hash_load8(const char* p) noexcept { return static_cast<unsigned char>(*p); }

// The values are those of the first version (pinned in tests/cache/cache_hash_test.cpp, checked
// against it at every length and alignment there); only the loads changed. Keys shorter than 8
// bytes are read with fixed-size loads that overlap instead of a variable-length memcpy call
// (a get_shared hit on 5-byte keys: 254.7 -> 236.7 instructions; longer keys unchanged).
inline std::uint64_t hash_key(std::string_view key) noexcept {
    constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                            k2 = 0x8ebc6af09c88c6e3ull;
    const char* p = key.data();
    std::size_t n = key.size();
    std::uint64_t seed = k0 ^ hash_mix(n ^ k0, k1);
    // The last 1..16 bytes go in a and b (zero-padded little-endian words).
    std::uint64_t a = 0, b = 0;
    if (n > 16) {
        do {
            seed = hash_mix(hash_load64(p) ^ k1, hash_load64(p + 8) ^ seed);
            p += 16;
            n -= 16;
        } while (n > 16);
        if (n >= 8) {
            a = hash_load64(p);
            b = hash_load64(p + n - 8);
        } else {
            // One load ending at the key's end, its first bytes (earlier blocks') shifted out.
            a = hash_load64(p + n - 8) >> (8 * (8 - n));
        }
    } else if (n >= 8) {
        a = hash_load64(p);
        b = hash_load64(p + n - 8);
    } else if (n >= 4) {
        // Bytes 0..3 and n-4..n-1, the overlap being the same bytes.
        a = hash_load32(p) | hash_load32(p + n - 4) << (8 * (n - 4));
    } else if (n > 0) {
        a = hash_load8(p) | hash_load8(p + n / 2) << (8 * (n / 2)) |
            hash_load8(p + n - 1) << (8 * (n - 1));
    }
    seed = hash_mix(a ^ k1, b ^ seed);
    return hash_mix(seed ^ k2, static_cast<std::uint64_t>(key.size()) ^ k1);
}

}  // namespace heapwise::api
