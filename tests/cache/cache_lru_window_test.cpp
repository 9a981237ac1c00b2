// The eviction order's documented tolerance (docs/api-cache.md, Eviction): an entry whose last use
// (set or read) came at least one window of LruBuckets::window_sets(shards) sets before another's
// is evicted first, whatever the access pattern; inside a window the order may be loose, but a
// set never evicts its own entry while others remain. Checked against a reference clock on the
// real cache, and on LruBuckets itself through ring growth and folding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cache_lru.hpp"
#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using heapwise::api::Entry;
using heapwise::api::LruBuckets;

TEST_CASE("no entry is evicted while one used a window earlier is still cached", "[cache]") {
    for (unsigned shards : {1u, 4u}) {
        INFO("shards " << shards);
        const std::uint64_t window = LruBuckets::window_sets(shards);
        // Reference clock: set number i happens at 2i, a read between sets i-1 and i at 2i-1
        // (the cache's epoch, up to an offset).
        std::uint64_t sets = 0;
        std::map<std::string, std::uint64_t> used;  // key -> reference time of its last use
        std::string setting;
        std::vector<std::string> violations;
        std::uint64_t evictions = 0;
        const std::string value = cachetest::value_of(300, 'w');
        Cache probe({.max_memory = 1_MiB, .max_disk = 0});
        const std::size_t charge = probe.entry_charge(8, value.size());
        Cache cache({.max_memory = 150 * charge, .max_disk = 0, .shards = shards,
                     .listener = [&](const EvictionEvent& e) {
                         if (e.cause != EvictCause::evicted) return;
                         ++evictions;
                         const std::uint64_t victim_use = used.at(std::string(e.key));
                         used.erase(std::string(e.key));
                         if (e.key == setting && !used.empty()) {
                             violations.push_back("evicted its own set " + setting);
                         }
                         for (const auto& [k, t] : used) {
                             if (t + 2 * window <= victim_use) {
                                 violations.push_back(std::string(e.key) + " before " + k);
                             }
                         }
                     }});
        std::mt19937_64 rng(7 + shards);
        std::uniform_int_distribution<int> key_of(0, 299), op(0, 9);
        for (int i = 0; i < 20000; ++i) {
            char key[16];
            std::snprintf(key, sizeof key, "key%05d", key_of(rng));
            if (op(rng) < 6) {  // a read: a hit moves the key's use to now
                const bool hit = cache.get(key).has_value();
                REQUIRE(hit == (used.count(key) == 1));
                if (hit) used[key] = 2 * sets + 1;
            } else {
                setting = key;
                used[key] = 2 * sets + 2;
                cache.set(key, std::string_view(value));
                ++sets;
            }
        }
        INFO((violations.empty() ? std::string() : violations.front()));
        REQUIRE(violations.empty());
        REQUIRE(evictions > 2000);  // the budget was exercised, not just filled
        REQUIRE(cache.stats().memory_items == used.size());
    }
}

namespace {

// Entries made directly (the cache's own block layout), stamped by the test.
struct Pool {
    std::vector<Entry*> all;
    Entry* make(std::uint64_t stamp) {
        Entry* e = Entry::create("k" + std::to_string(all.size()), 0, Allocator::system);
        e->list_stamp = e->last_use = stamp;
        all.push_back(e);
        return e;
    }
    ~Pool() {
        for (Entry* e : all) Entry::destroy(e);
    }
};

std::vector<std::uint64_t> drain(LruBuckets& lru) {
    std::vector<std::uint64_t> order;
    while (Entry* e = lru.back()) {
        order.push_back(e->list_stamp);
        lru.unlink(e);
    }
    return order;
}

}  // namespace

TEST_CASE("the bucket ring grows for many entries and keeps stamp order", "[cache]") {
    LruBuckets lru;
    lru.set_shards(1);
    Pool pool;
    const std::size_t ring = lru.ring_size();
    for (std::uint64_t i = 0; i < 20000; ++i) lru.push_front(pool.make(2 * i + 2));
    REQUIRE(lru.ring_size() > ring);
    const auto order = drain(lru);
    REQUIRE(order.size() == 20000);
    REQUIRE(std::is_sorted(order.begin(), order.end()));
    REQUIRE(lru.empty());
}

TEST_CASE("a sparse shard folds old buckets without losing their order", "[cache]") {
    LruBuckets lru;
    lru.set_shards(1);
    Pool pool;
    // Few entries spread over far more epochs than the ring covers: no growth, folding.
    std::vector<std::uint64_t> stamps;
    for (std::uint64_t i = 0; i < 40; ++i) {
        stamps.push_back(1000 + i * 977 * 64);
        lru.push_front(pool.make(stamps.back()));
    }
    REQUIRE(lru.ring_size() == 64);
    // A use far in the future for the oldest entry: it moves to its own bucket, in front.
    Entry* oldest = lru.back();
    REQUIRE(oldest->list_stamp == 1000);
    oldest->last_use = stamps.back() + 5;
    lru.reposition(oldest);
    REQUIRE(oldest->list_stamp == stamps.back() + 5);
    const auto order = drain(lru);
    std::vector<std::uint64_t> expected(stamps.begin() + 1, stamps.end());
    expected.push_back(stamps.back() + 5);
    REQUIRE(order == expected);
}

TEST_CASE("a reposition finds the exact place of a use within its bucket", "[cache]") {
    LruBuckets lru;
    lru.set_shards(1);  // 32 epochs per bucket
    Pool pool;
    Entry* a = lru.back();
    REQUIRE(a == nullptr);
    std::vector<Entry*> e;
    for (std::uint64_t s : {64, 66, 68, 70, 72}) {
        e.push_back(pool.make(s));
        lru.push_front(e.back());
    }
    e[0]->last_use = 69;  // read between the sets stamped 68 and 70
    REQUIRE(lru.back() == e[0]);
    lru.reposition(e[0]);
    REQUIRE(drain(lru) == std::vector<std::uint64_t>{66, 68, 69, 70, 72});
}
