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

inline std::uint64_t hash_key(std::string_view key) noexcept {
    constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                            k2 = 0x8ebc6af09c88c6e3ull;
    const char* p = key.data();
    std::size_t n = key.size();
    std::uint64_t seed = k0 ^ hash_mix(n ^ k0, k1);
    while (n > 16) {
        seed = hash_mix(hash_load64(p) ^ k1, hash_load64(p + 8) ^ seed);
        p += 16;
        n -= 16;
    }
    // The last 1..16 bytes, read as two (possibly overlapping) words, zero-padded when short.
    std::uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = hash_load64(p);
        b = hash_load64(p + n - 8);
    } else if (n > 0 && key.size() >= 8) {
        // The same zero-padded word as the memcpy below, from one load ending at the key's end
        // (a variable-length memcpy costs ~25 instructions on every lookup).
        a = hash_load64(p + n - 8) >> (8 * (8 - n));
    } else if (n > 0) {
        std::memcpy(&a, p, n);
    }
    seed = hash_mix(a ^ k1, b ^ seed);
    return hash_mix(seed ^ k2, static_cast<std::uint64_t>(key.size()) ^ k1);
}

}  // namespace heapwise::api
