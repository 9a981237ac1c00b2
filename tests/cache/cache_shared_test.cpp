// Cache::get_shared: handles on cached values that outlive eviction, replacement, erase, clear
// and the cache itself with exact contents; disk reloads returned as handles; reference counts
// that return every byte (held_by_handles back to where it was, ASan's leak check at exit); the
// budget does not count values only handles hold. Run under ASan and TSan too.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cache_entry.hpp"
#include "cache_table.hpp"
#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;

namespace {

std::string sv(const std::optional<SharedBytes>& b) {
    return b ? std::string(b->view()) : "<miss>";
}

// What a value held only by handles keeps allocated, by the cache's own charge formula: the
// entry's charge less its table slot.
std::size_t held_of(const Cache& c, std::size_t key_len, std::size_t value_len) {
    return c.entry_charge(key_len, value_len) - api::EntryTable::kSlotCharge;
}

}  // namespace

TEST_CASE("get_shared returns the value without copying it and counts hits and misses",
          "[cache][shared]") {
    Cache cache({.max_memory = 1_MiB, .max_disk = 0});
    const std::string small = value_of(128, 'a'), large = value_of(5000, 'b');
    cache.set("small", std::string_view(small));
    cache.set("large", std::string_view(large));
    cache.set("empty", std::string_view());
    auto a = cache.get_shared("small");
    auto b = cache.get_shared("large");
    auto e = cache.get_shared("empty");
    REQUIRE(sv(a) == small);
    REQUIRE(sv(b) == large);
    REQUIRE(e.has_value());
    REQUIRE(e->empty());
    REQUIRE_FALSE(cache.get_shared("absent").has_value());
    // Two handles on one entry point at the same bytes: the cache's own copy.
    auto a2 = cache.get_shared("small");
    REQUIRE(a2->data() == a->data());
    REQUIRE(a->use_count() == 3);  // the cache and two handles
    REQUIRE(a->to_bytes().view() == small);
    const CacheStats st = cache.stats();
    REQUIRE(st.hits == 4);
    REQUIRE(st.misses == 1);
}

TEST_CASE("a handle survives erase, replacement, eviction, clear and destruction",
          "[cache][shared]") {
    const HeldByHandles h0 = held_by_handles();
    const std::string v1 = value_of(128, 'c'), v2 = value_of(4096, 'd');
    std::optional<Cache> cache(Cache({.max_memory = 64_KiB, .max_disk = 0, .shards = 1}));
    for (int i = 0; i < 4; ++i) {
        cache->set("k" + std::to_string(i), std::string_view(i % 2 ? v2 : v1));
    }
    auto erased = cache->get_shared("k0");
    auto replaced = cache->get_shared("k1");
    auto evicted = cache->get_shared("k2");
    auto destroyed = cache->get_shared("k3");
    REQUIRE(cache->erase("k0"));
    cache->set("k1", std::string_view("new"));
    // Fill the budget with other keys until k2 is evicted (no disk: dropped).
    for (int i = 0; cache->contains("k2"); ++i) {
        cache->set("fill" + std::to_string(i), std::string_view(v1));
    }
    REQUIRE(sv(cache->get_shared("k1")) == "new");
    REQUIRE(sv(erased) == v1);
    REQUIRE(sv(replaced) == v2);
    REQUIRE(sv(evicted) == v1);
    REQUIRE(cache->memory_bytes() <= 64_KiB);

    cache->clear();  // collects every retired entry: those three are now the handles' alone
    REQUIRE(cache->stats().memory_bytes == 0);
    REQUIRE(erased->use_count() == 1);
    REQUIRE(held_by_handles().values == h0.values + 4);
    REQUIRE(held_by_handles().bytes ==
            h0.bytes + 2 * held_of(*cache, 2, v1.size()) + 2 * held_of(*cache, 2, v2.size()));
    REQUIRE(sv(destroyed) == v2);

    // The cache goes; a copy of a handle keeps the value after the original is dropped too.
    cache.reset();
    SharedBytes copy = *destroyed;
    destroyed.reset();
    REQUIRE(copy.view() == v2);
    REQUIRE(copy.use_count() == 1);
    REQUIRE(sv(erased) == v1);
    REQUIRE(sv(replaced) == v2);
    REQUIRE(sv(evicted) == v1);

    erased.reset();
    replaced.reset();
    evicted.reset();
    REQUIRE(held_by_handles().values == h0.values + 1);
    copy = SharedBytes();
    REQUIRE(held_by_handles().values == h0.values);
    REQUIRE(held_by_handles().bytes == h0.bytes);
}

TEST_CASE("the destructor leaves handled values to their handles and frees the rest",
          "[cache][shared]") {
    const HeldByHandles h0 = held_by_handles();
    std::vector<SharedBytes> kept;
    {
        Cache cache({.max_memory = 1_MiB, .max_disk = 0});
        for (int i = 0; i < 100; ++i) {
            cache.set("key" + std::to_string(i), std::string_view(value_of(100 + i, 'e')));
        }
        for (int i = 0; i < 100; i += 10) kept.push_back(*cache.get_shared("key" + std::to_string(i)));
        REQUIRE(held_by_handles().values == h0.values);  // the cache still holds them all
    }
    REQUIRE(held_by_handles().values == h0.values + 10);
    for (int i = 0; i < 10; ++i) {
        REQUIRE(kept[static_cast<std::size_t>(i)].view() == value_of(100 + 10 * static_cast<std::size_t>(i), 'e'));
        REQUIRE(kept[static_cast<std::size_t>(i)].use_count() == 1);
    }
    kept.clear();
    REQUIRE(held_by_handles().values == h0.values);
    REQUIRE(held_by_handles().bytes == h0.bytes);
}

TEST_CASE("values that only handles hold are not charged to the budget", "[cache][shared]") {
    const HeldByHandles h0 = held_by_handles();
    Cache cache({.max_memory = 1_MiB, .max_disk = 0, .shards = 1});
    const std::string v = value_of(1000, 'f');
    cache.set("a", std::string_view(v));
    const std::size_t charge = cache.entry_charge(1, v.size());
    REQUIRE(cache.memory_bytes() == charge);
    auto h = cache.get_shared("a");
    REQUIRE(cache.memory_bytes() == charge);  // a handle on a cached value costs nothing more
    REQUIRE(cache.erase("a"));
    cache.clear();
    REQUIRE(cache.memory_bytes() == 0);  // left the cache: the budget is free for new entries
    REQUIRE(held_by_handles().values == h0.values + 1);
    REQUIRE(held_by_handles().bytes == h0.bytes + held_of(cache, 1, v.size()));
    // Another key set under the same key gets a new block; the handle still reads the old one.
    cache.set("a", std::string_view("other"));
    REQUIRE(sv(h) == v);
    REQUIRE(cache.memory_bytes() == cache.entry_charge(1, 5));
    h.reset();
    REQUIRE(held_by_handles().bytes == h0.bytes);
}

TEST_CASE("spilled values come back from disk as handles, promoted or not", "[cache][shared]") {
    const HeldByHandles h0 = held_by_handles();
    TempDir dir;
    const std::size_t charge = Cache({.max_memory = 1_MiB, .max_disk = 0}).entry_charge(2, 1000);
    Cache cache({.max_memory = 2 * charge + 1000, .max_disk = 64_MiB, .spill_dir = dir.str(),
                 .shards = 1});
    for (int i = 0; i < 4; ++i) {
        cache.set("k" + std::to_string(i), std::string_view(value_of(1000, char('a' + i))));
    }
    REQUIRE(cache.stats().disk_items == 2);  // k0 and k1 spilled

    // Promoted: the handle is on the new memory entry (shared with the cache).
    auto p = cache.get_shared("k0");
    REQUIRE(sv(p) == value_of(1000, 'a'));
    REQUIRE(p->use_count() == 2);
    REQUIRE(cache.stats().promotions == 1);
    REQUIRE(cache.stats().disk_hits == 1);
    auto again = cache.get_shared("k0");
    REQUIRE(again->data() == p->data());

    // Not promoted (the value is larger than the whole budget, so it stays on disk): the handle
    // owns the value read from the file, outside any cache.
    const std::string big = value_of(3 * charge, 'z');
    cache.set("big", std::string_view(big));
    REQUIRE(cache.stats().disk_items >= 1);
    auto d = cache.get_shared("big");
    REQUIRE(sv(d) == big);
    REQUIRE(d->use_count() == 1);
    REQUIRE(held_by_handles().values == h0.values + 1);
    REQUIRE(held_by_handles().bytes ==
            h0.bytes + allocation_size(sizeof(api::Entry), Allocator::mimalloc) +
                allocation_size(big.size(), Allocator::mimalloc));
    REQUIRE(cache.stats().promotions == 1);
    d.reset();
    REQUIRE(held_by_handles().values == h0.values);

    // A damaged file is a miss, as for get.
    const auto files = files_in(cache.spill_path());
    REQUIRE_FALSE(files.empty());
    for (const auto& f : files) flip_byte(f, kSpillHeader + 3);
    REQUIRE_FALSE(cache.get_shared("big").has_value());
    REQUIRE(cache.stats().corrupt >= 1);
    p.reset();
    again.reset();
    REQUIRE(held_by_handles().bytes == h0.bytes);
}

TEST_CASE("an expired entry is a miss for get_shared, and a handle taken before stays valid",
          "[cache][shared]") {
    FakeClock clock;
    Cache cache({.max_memory = 1_MiB, .max_disk = 0, .clock = clock.fn()});
    cache.set("t", std::string_view("short-lived"), {.ttl = std::chrono::seconds(1)});
    auto h = cache.get_shared("t");
    clock.advance(std::chrono::seconds(2));
    REQUIRE_FALSE(cache.get_shared("t").has_value());
    REQUIRE(cache.stats().expirations == 1);
    REQUIRE(sv(h) == "short-lived");
}

TEST_CASE("handles copy, move and compare like values", "[cache][shared]") {
    const HeldByHandles h0 = held_by_handles();
    {
        Cache cache({.max_memory = 1_MiB, .max_disk = 0});
        cache.set("x", std::string_view("xyz"));
        SharedBytes a = *cache.get_shared("x");
        SharedBytes b = a;             // copy: shares
        SharedBytes c = std::move(a);  // move: takes over
        REQUIRE(a.empty());
        REQUIRE(a.use_count() == 0);
        REQUIRE(b == c);
        REQUIRE(c.use_count() == 3);
        b = c;  // copy-assign onto a handle of the same value
        REQUIRE(c.use_count() == 3);
        c = SharedBytes();
        REQUIRE(b.use_count() == 2);
        cache.clear();
        REQUIRE(b.use_count() == 1);
        REQUIRE(b.view() == "xyz");
        REQUIRE(held_by_handles().values == h0.values + 1);
    }
    REQUIRE(held_by_handles().values == h0.values);
}
