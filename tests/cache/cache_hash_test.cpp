// The cache's key hash (api/cache_hash.hpp): its bits spread evenly over what uses them — the
// shard (bits 40 and up, up to 4096 shards) and the table slot (the low bits) — for key shapes
// scrapers use (URLs differing in a number, sequential ids, short keys, long keys), by a
// chi-square test over 200 000 keys per shape; and its values stay those persistent spill
// directories were written with (file names carry them); the probe's inline key compare.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache_hash.hpp"
#include "cache_table.hpp"

using heapwise::api::hash_key;

namespace {

// Chi-square statistic of `keys` hashed into 2^bits buckets taken at bit `shift`.
double chi_square(const std::vector<std::string>& keys, unsigned shift, unsigned bits) {
    std::vector<double> count(std::size_t{1} << bits, 0.0);
    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    for (const auto& k : keys) count[(hash_key(k) >> shift) & mask] += 1;
    const double expected = static_cast<double>(keys.size()) / static_cast<double>(count.size());
    double chi = 0;
    for (double c : count) chi += (c - expected) * (c - expected) / expected;
    return chi;
}

// For a uniform hash the statistic has mean k-1 and standard deviation sqrt(2(k-1)); 6 standard
// deviations is far outside chance (the keys are fixed, so the test is deterministic) and far
// inside what a weak hash gives (a sum of bytes, say, puts these keys in a few hundred buckets).
void check_uniform(const std::vector<std::string>& keys, const char* shape) {
    for (auto [shift, bits] : {std::pair{40u, 8u}, std::pair{40u, 12u}, std::pair{0u, 12u},
                               std::pair{0u, 16u}, std::pair{20u, 10u}}) {
        const double k = std::ldexp(1.0, static_cast<int>(bits));
        const double chi = chi_square(keys, shift, bits);
        INFO(shape << ": bits " << shift << ".." << shift + bits - 1 << " chi-square " << chi
                   << " for " << k - 1 << " degrees of freedom");
        REQUIRE(chi < (k - 1) + 6 * std::sqrt(2 * (k - 1)));
    }
}

}  // namespace

TEST_CASE("the key hash spreads keys of every shape evenly over shard and slot bits",
          "[cache][hash]") {
    constexpr std::size_t kN = 200'000;
    std::vector<std::string> urls, ids, shorts, longs;
    for (std::size_t i = 0; i < kN; ++i) {
        urls.push_back("https://shop.example.com/item/" + std::to_string(i * 7919 % 1000003));
        ids.push_back(std::to_string(i));
        shorts.push_back(std::string(reinterpret_cast<const char*>(&i), 3));  // 3 raw bytes
        longs.push_back("https://news.example.org/2026/11/22/a-rather-long-article-slug-" +
                        std::to_string(i) + "?utm_source=feed&utm_medium=rss");
    }
    check_uniform(urls, "urls");
    check_uniform(ids, "decimal ids");
    check_uniform(shorts, "3-byte keys");
    check_uniform(longs, "long urls");
}

TEST_CASE("the key hash keeps the values persistent spill files are named with", "[cache][hash]") {
    // Printed by hash_key at commit 65cf1b8 (a 4-line program over api/cache_hash.hpp). A change
    // here makes every existing persistent directory's files fail validation (the name's hash
    // is checked against the key) and be dropped: bump the spill format instead.
    const std::pair<std::string_view, std::uint64_t> known[] = {
        {"", 0x82d6de9c0781ef39ull},
        {"a", 0x848adfe172a537a4ull},
        {"abc", 0xaae62443fe1b97e3ull},
        {"12345678", 0xdc7143e0cfc76ffeull},
        {"https://shop.example.com/item/42", 0x121b5403c494d061ull},
        {"https://news.example.org/2026/11/22/a-rather-long-article-slug-7?utm_source=feed",
         0xb8b85ec884420436ull},
        // Printed at 2d30f37, before the loads of short keys changed (each tail shape once).
        {"ab", 0x4461801e108ff4efull},
        {"abcd", 0x754f920fdceb0ccbull},
        {"abcde", 0x0cce0eb38e72c3b2ull},
        {"abcdefg", 0xb092464822398a36ull},
        {"0123456789abcdefX", 0x8310fa0269b2891dull},
        {"https://shop.example.com/item/12345", 0xfeda7dafc0829184ull},
    };
    for (auto [key, h] : known) {
        INFO(key);
        REQUIRE(hash_key(key) == h);
    }
}

namespace {

// hash_key as first written (a byte-wise memcpy of the short tail): the definition the
// persistent spill names were made with.
std::uint64_t reference_hash(std::string_view key) {
    using heapwise::api::hash_load64;
    using heapwise::api::hash_mix;
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
    std::uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = hash_load64(p);
        b = hash_load64(p + n - 8);
    } else if (n > 0) {
        std::memcpy(&a, p, n);
    }
    seed = hash_mix(a ^ k1, b ^ seed);
    return hash_mix(seed ^ k2, static_cast<std::uint64_t>(key.size()) ^ k1);
}

}  // namespace

TEST_CASE("the key hash equals its first definition at every length and alignment",
          "[cache][hash]") {
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    std::string buf(200 + 8, '\0');
    for (std::size_t len = 0; len <= 200; ++len) {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            for (char& c : buf) {
                x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
                c = static_cast<char>((x * 2685821657736338717ull) >> 56);
            }
            const std::string_view key(buf.data() + offset, len);
            INFO("length " << len << ", offset " << offset);
            REQUIRE(hash_key(key) == reference_hash(key));
        }
    }
}

TEST_CASE("the probe's key compare finds every differing byte at every length", "[cache][hash]") {
    // EntryTable::same_key compares up to 64 bytes inline in overlapping 16-byte words: a byte
    // missed by the overlap would make two keys with one hash the same key.
    for (std::size_t n = 0; n <= 80; ++n) {
        std::string a(n, '\0');
        for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
        std::string b = a;
        REQUIRE(heapwise::api::EntryTable::same_key(a.data(), b.data(), n));
        for (std::size_t i = 0; i < n; ++i) {
            b[i] ^= 0x01;
            INFO("length " << n << ", byte " << i);
            REQUIRE_FALSE(heapwise::api::EntryTable::same_key(a.data(), b.data(), n));
            b[i] = a[i];
        }
    }
}
