// Cache basics in memory: round trips, exact byte accounting at the allocator's usable size,
// LRU eviction order, the bound after every set, keys of any bytes, bad options, the typed layer.
#include <malloc.h>
#include <mimalloc.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <random>

#include "cache_crc.hpp"
#include "cache_test_util.hpp"
#include "heapwise/trace_format.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using cachetest::value_of;

namespace {

std::string sv(const std::optional<Bytes>& b) { return b ? std::string(b->view()) : "<miss>"; }

}  // namespace

TEST_CASE("set, get, erase, contains and clear round-trip values", "[cache]") {
    Cache cache({.max_memory = 1_MiB, .max_disk = 0});
    cache.set("a", std::string_view("alpha"));
    cache.set("b", Bytes(std::string_view("beta")));
    REQUIRE(sv(cache.get("a")) == "alpha");
    REQUIRE(sv(cache.get("b")) == "beta");
    REQUIRE_FALSE(cache.get("c"));
    REQUIRE(cache.contains("a"));
    REQUIRE(cache.erase("a"));
    REQUIRE_FALSE(cache.erase("a"));
    REQUIRE_FALSE(cache.contains("a"));
    cache.set("b", std::string_view("beta2"));
    REQUIRE(sv(cache.get("b")) == "beta2");
    auto st = cache.stats();
    REQUIRE(st.hits == 3);
    REQUIRE(st.misses == 1);
    REQUIRE(st.items == 1);
    REQUIRE_FALSE(st.spill_enabled);
    cache.clear();
    REQUIRE(cache.stats().items == 0);
    REQUIRE(cache.memory_bytes() == 0);
}

TEST_CASE("get returns an owned copy that survives eviction", "[cache]") {
    Cache cache({.max_memory = 4_KiB, .max_disk = 0, .shards = 1});
    cache.set("k", std::string_view(value_of(1000, 'a')));
    std::optional<Bytes> v = cache.get("k");
    for (int i = 0; i < 20; ++i) cache.set("other" + std::to_string(i), std::string_view(value_of(1000, 'b')));
    REQUIRE_FALSE(cache.contains("k"));
    REQUIRE(sv(v) == value_of(1000, 'a'));
}

TEST_CASE("values are charged at mimalloc's usable size", "[cache]") {
    Cache cache({.max_memory = 64_MiB, .max_disk = 0});
    const std::size_t base = cache.entry_charge(5, 0);
    REQUIRE(base >= 5 + 32);
    // Up to 2 KiB the value shares the key's block: the charge is that block's usable size,
    // never below the empty entry's nor below key, value and slot, and at most one size class
    // (mimalloc's: 1/8 apart) above the two added.
    for (std::size_t n : {1u, 7u, 100u, 1000u, 2048u}) {
        const std::size_t c = cache.entry_charge(5, n);
        REQUIRE(c >= std::max(base, n + 5 + 32));
        REQUIRE(c <= (base + n) * 5 / 4);
    }
    REQUIRE(cache.entry_charge(5, 2049) > cache.entry_charge(5, 2048));
    // Larger values have a block of their own, charged at its usable size.
    for (std::size_t n : {2049u, 4097u, 70000u}) {
#if defined(__SANITIZE_THREAD__)  // the library uses malloc under TSan (cache_memory.hpp)
        void* p = std::malloc(n);
        const std::size_t usable = malloc_usable_size(p);
        std::free(p);
#else
        void* p = mi_malloc(n);
        const std::size_t usable = mi_usable_size(p);
        mi_free(p);
#endif
        REQUIRE(cache.entry_charge(5, n) - base == usable);
    }
    // Memory bytes are exactly the sum of the entries' charges, whatever their shapes.
    std::size_t expected = 0;
    std::mt19937 rng(7);
    for (int i = 0; i < 300; ++i) {
        std::string key = "key-" + std::to_string(i) + std::string(rng() % 40, 'x');
        std::size_t n = rng() % 5000;
        cache.set(key, std::string_view(value_of(n, 'v')));
        expected += cache.entry_charge(key.size(), n);
        REQUIRE(cache.memory_bytes() == expected);
    }
    // A caller-made buffer is charged at its own usable size.
    Bytes b = Bytes::uninitialized(3000);
    const std::size_t before = cache.memory_bytes();
    cache.set("own", std::move(b));
    REQUIRE(cache.memory_bytes() - before == cache.entry_charge(3, 0) + allocation_size(3000, Allocator::mimalloc));
}

TEST_CASE("the least recently used entry is evicted first and the bound holds after every set",
          "[cache]") {
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = probe.entry_charge(2, 100);
    std::vector<std::string> dropped;
    Cache cache({.max_memory = 5 * charge + charge / 2,
                 .max_disk = 0,
                 .shards = 1,
                 .listener = [&](const EvictionEvent& e) {
                     if (e.cause == EvictCause::evicted) dropped.emplace_back(e.key);
                 }});
    for (int i = 0; i < 5; ++i) {
        cache.set("k" + std::to_string(i), std::string_view(value_of(100, 'a')));
        REQUIRE(cache.memory_bytes() == static_cast<std::size_t>(i + 1) * charge);
    }
    REQUIRE(cache.get("k0"));  // k0 becomes most recent; k1 is now the coldest
    cache.set("k5", std::string_view(value_of(100, 'b')));
    REQUIRE(dropped == std::vector<std::string>{"k1"});
    cache.set("k6", std::string_view(value_of(100, 'c')));
    REQUIRE(dropped == std::vector<std::string>{"k1", "k2"});
    for (const char* k : {"k0", "k3", "k4", "k5", "k6"}) REQUIRE(cache.contains(k));
    REQUIRE(cache.memory_bytes() == 5 * charge);
    auto st = cache.stats();
    REQUIRE(st.evictions == 2);
    REQUIRE(st.memory_items == 5);

    // Many shards: the global bound still holds after every set.
    Cache sharded({.max_memory = 50 * charge, .max_disk = 0, .shards = 8});
    for (int i = 0; i < 1000; ++i) {
        sharded.set("s" + std::to_string(i % 97) + "-" + std::to_string(i), std::string_view(value_of(100, 'z')));
        REQUIRE(sharded.memory_bytes() <= 50 * charge);
    }
    REQUIRE(sharded.stats().memory_items >= 40);
}

TEST_CASE("keys of any bytes are distinct and round-trip", "[cache]") {
    std::vector<std::string> keys = {std::string("a\0b", 3), std::string("a\0c", 3), "", "/", "a/b",
                                     "..", "../../etc/passwd", std::string(1, '\0'),
                                     std::string(10240, '/'), std::string("\xff\xfe..\n", 5)};
    std::string big(10240, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
    keys.push_back(big);
    Cache cache({.max_memory = 4_MiB, .max_disk = 0});
    for (std::size_t i = 0; i < keys.size(); ++i) cache.set(keys[i], std::string_view(std::to_string(i)));
    for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(sv(cache.get(keys[i])) == std::to_string(i));
    REQUIRE(cache.stats().items == keys.size());
}

TEST_CASE("bad options and oversize values give clear errors and lose nothing", "[cache]") {
    REQUIRE_THROWS_WITH(Cache({.max_memory = 0}), Catch::Contains("max_memory must be greater than 0"));
    REQUIRE_THROWS_AS(Cache({.max_memory = 0}), std::invalid_argument);
    REQUIRE_THROWS_WITH(Cache({.max_memory = static_cast<std::size_t>(-5)}), Catch::Contains("negative"));
    REQUIRE_THROWS_WITH(Cache({.max_memory = 1_MiB, .max_disk = static_cast<std::size_t>(-1)}),
                        Catch::Contains("max_disk"));
    REQUIRE_THROWS_WITH(Cache({.max_memory = 1_MiB, .persistent = true, .name = "../x"}),
                        Catch::Contains("name"));
    REQUIRE_THROWS_AS(Cache({.max_memory = 1_MiB, .default_ttl = std::chrono::seconds(-1)}), std::invalid_argument);
    try {
        Cache c({.max_memory = 1_MiB, .spill_dir = "/nonexistent/heapwise-x"});
        FAIL("constructed with a missing spill directory");
    } catch (const CacheError& e) {
        REQUIRE(e.code() == CacheError::Code::spill_dir);
        REQUIRE_THAT(e.what(), Catch::Contains("/nonexistent/heapwise-x"));
    }

    Cache cache({.max_memory = 8_KiB, .max_disk = 0, .oversize = Oversize::reject});
    cache.set("k", std::string_view("small"));
    try {
        cache.set("k", std::string_view(value_of(16384, 'x')));
        FAIL("an oversize value was accepted");
    } catch (const CacheError& e) {
        REQUIRE(e.code() == CacheError::Code::too_big);
        REQUIRE_THAT(e.what(), Catch::Contains("larger than the memory budget"));
    }
    REQUIRE(sv(cache.get("k")) == "small");  // the old value is still there
    // spill mode without a disk: refused as well, with the reason
    Cache nodisk({.max_memory = 8_KiB, .max_disk = 0});
    REQUIRE_THROWS_WITH(nodisk.set("k", std::string_view(value_of(16384, 'x'))),
                        Catch::Contains("cannot go to disk"));
    REQUIRE_THROWS_AS(cache.set("k", std::string_view("v"), {.ttl = std::chrono::seconds(-1)}),
                      std::invalid_argument);
    // Keys of 2 GiB or more are refused before a byte of them is read (the size alone decides).
    static const char one[1] = {'x'};
    const std::string_view huge_key(one, std::size_t{1} << 31);
    REQUIRE_THROWS_WITH(cache.set(huge_key, std::string_view("v")),
                        Catch::Contains("not shorter than 2 GiB"));
    REQUIRE(sv(cache.get("k")) == "small");
}

namespace {
struct Point {
    int x, y;
    double w;
};
struct Words {
    std::vector<std::string> items;
};
struct WordsCodec {  // length-prefixed strings
    static Bytes encode(const Words& w) {
        std::string out;
        for (const auto& s : w.items) {
            std::uint32_t n = static_cast<std::uint32_t>(s.size());
            out.append(reinterpret_cast<const char*>(&n), 4);
            out += s;
        }
        return Bytes(std::string_view(out));
    }
    static Words decode(std::span<const std::byte> d) {
        Words w;
        std::size_t i = 0;
        while (i + 4 <= d.size()) {
            std::uint32_t n;
            std::memcpy(&n, d.data() + i, 4);
            w.items.emplace_back(reinterpret_cast<const char*>(d.data() + i + 4), n);
            i += 4 + n;
        }
        return w;
    }
};
}  // namespace

TEST_CASE("TypedCache stores values through a codec", "[cache]") {
    TypedCache<std::string> strings({.max_memory = 1_MiB, .max_disk = 0});
    strings.set("a", "hello");
    REQUIRE(strings.get("a") == std::optional<std::string>("hello"));
    REQUIRE_FALSE(strings.get("b"));
    REQUIRE(strings.get_or_load("b", [] { return std::string("loaded"); }) == "loaded");
    REQUIRE(strings.stats().loads == 1);

    TypedCache<Point> points({.max_memory = 1_MiB, .max_disk = 0});
    points.set("p", Point{3, -4, 2.5});
    auto p = points.get("p");
    REQUIRE(p);
    REQUIRE(p->x == 3);
    REQUIRE(p->y == -4);
    REQUIRE(p->w == 2.5);
    // A stored value of the wrong size is an error, not garbage.
    points.raw().set("bad", std::string_view("abc"));
    REQUIRE_THROWS_AS(points.get("bad"), std::invalid_argument);

    TypedCache<Words, WordsCodec> words({.max_memory = 1_MiB, .max_disk = 0});
    words.set("w", Words{{"x", "", "yz"}});
    REQUIRE(words.get("w")->items == std::vector<std::string>{"x", "", "yz"});
}

TEST_CASE("the spill checksum agrees with the trace format's crc32c", "[cache]") {
    std::mt19937 rng(1);
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 4096u, 100001u}) {
        std::vector<unsigned char> buf(n);
        for (auto& c : buf) c = static_cast<unsigned char>(rng());
        REQUIRE(api::crc32c(buf.data(), n) == format::crc32c(buf.data(), n));
        REQUIRE(api::crc32c_portable(buf.data(), n, 77) == format::crc32c(buf.data(), n, 77));
        REQUIRE(api::crc32c(buf.data(), n, 77) == format::crc32c(buf.data(), n, 77));
    }
    REQUIRE(api::crc32c("123456789", 9) == 0xE3069283u);  // the CRC-32C check value
}

TEST_CASE("Bytes owns, copies and moves its buffer", "[cache]") {
    Bytes a(std::string_view("hello"));
    Bytes b = a;
    REQUIRE(b == a);
    REQUIRE(b.data() != a.data());
    Bytes c = std::move(a);
    REQUIRE(a.empty());
    REQUIRE(c.view() == "hello");
    REQUIRE(c.usable_size() >= 5);
    Bytes s(std::string_view("sys"), Allocator::system);
    REQUIRE(s.allocator() == Allocator::system);
    REQUIRE(Bytes(s).allocator() == Allocator::system);
    REQUIRE(Bytes().usable_size() == 0);
}
