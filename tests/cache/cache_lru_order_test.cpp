// Eviction order across shards: the entry a set just stored is the most recently used one and
// must never be its own set's victim while older entries exist in any shard; victims are the
// oldest entries (in set order when nothing is read, the read ones surviving otherwise).
// Regression for sets into a full multi-shard cache evicting the key just set.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using cachetest::value_of;

namespace {

std::string key_of(int i) { return "page-" + std::to_string(i); }

// Events the listener saw, in order, with the key whose set was running when each came.
struct Recorder {
    std::string current;  // the key being set (the listener runs on the setting thread)
    std::vector<std::string> victims;
    std::vector<std::string> self_victims;  // victims equal to the key being set
    EvictionListener fn() {
        return [this](const EvictionEvent& e) {
            if (e.cause != EvictCause::evicted && e.cause != EvictCause::spilled) return;
            victims.emplace_back(e.key);
            if (e.key == current) self_victims.emplace_back(e.key);
        };
    }
};

int index_of(const std::string& key) { return std::stoi(key.substr(5)); }

}  // namespace

TEST_CASE("a set into a full sharded cache never evicts the key it just set", "[cache]") {
    // The reported shape: 64 KiB, 8 KiB values, default shards (8 or more).
    Recorder rec;
    const std::string value = value_of(8_KiB, 'v');
    Cache cache({.max_memory = 64_KiB, .max_disk = 0, .listener = rec.fn()});
    const std::size_t charge = cache.entry_charge(key_of(0).size(), value.size());
    const std::size_t capacity = 64_KiB / charge;  // entries that fit (7 here)
    REQUIRE(capacity >= 4);

    int next = 0;
    while (cache.stats().evictions == 0) {  // fill until the first eviction
        rec.current = key_of(next);
        cache.set(key_of(next), std::string_view(value));
        ++next;
    }
    const int filled = next;
    for (int n = 0; n < 200; ++n, ++next) {
        rec.current = key_of(next);
        cache.set(key_of(next), std::string_view(value));
        INFO("set #" << n << " of " << key_of(next));
        REQUIRE(cache.contains(key_of(next)));  // max_disk = 0: present means in memory
        REQUIRE(cache.memory_bytes() <= 64_KiB);
    }
    REQUIRE(rec.self_victims.empty());

    // Nothing was read, so LRU order is set order: victims leave oldest first, exactly.
    const auto st = cache.stats();
    REQUIRE(st.memory_items == capacity);
    REQUIRE(st.evictions == static_cast<std::uint64_t>(next) - capacity);
    REQUIRE(rec.victims.size() == st.evictions);
    for (std::size_t i = 0; i < rec.victims.size(); ++i) {
        INFO("victim " << i);
        REQUIRE(rec.victims[i] == key_of(static_cast<int>(i)));
    }
    // What stays is the newest `capacity` keys.
    for (int i = next - static_cast<int>(capacity); i < next; ++i) REQUIRE(cache.contains(key_of(i)));
    REQUIRE(filled == static_cast<int>(capacity) + 1);
}

TEST_CASE("with spilling on, the key just set stays in memory and the oldest go to disk",
          "[cache]") {
    cachetest::TempDir dir;
    Recorder rec;
    const std::string value = value_of(8_KiB, 's');
    Cache cache({.max_memory = 64_KiB, .max_disk = 16_MiB, .spill_dir = dir.str(),
                 .listener = rec.fn()});
    const std::size_t capacity =
        64_KiB / cache.entry_charge(key_of(0).size(), value.size());
    for (int i = 0; i < 200 + static_cast<int>(capacity); ++i) {
        rec.current = key_of(i);
        cache.set(key_of(i), std::string_view(value));
        INFO("set of " << key_of(i));
        // In memory: reading it is a hit that touches no spill file.
        const auto before = cache.stats();
        REQUIRE(cache.get(key_of(i)));
        const auto after = cache.stats();
        REQUIRE(after.hits == before.hits + 1);
        REQUIRE(after.disk_hits == before.disk_hits);
        REQUIRE(after.memory_items + after.disk_items == static_cast<std::uint64_t>(i) + 1);
        REQUIRE(cache.memory_bytes() <= 64_KiB);
    }
    REQUIRE(rec.self_victims.empty());
    // Spill-file index blocks stay charged in memory, so fewer values fit as files pile up;
    // whatever the count, the ones that left are the oldest, in set order.
    const auto st = cache.stats();
    const int total = 200 + static_cast<int>(capacity);
    REQUIRE(rec.victims.size() == st.spills);
    REQUIRE(st.memory_items + rec.victims.size() == static_cast<std::size_t>(total));
    REQUIRE(st.memory_items >= 1);
    for (std::size_t i = 0; i < rec.victims.size(); ++i) {
        INFO("spill " << i);
        REQUIRE(rec.victims[i] == key_of(static_cast<int>(i)));
    }
    // The newest entries are the ones in memory: reading them costs no disk hit.
    const auto before = cache.stats().disk_hits;
    for (int i = total - static_cast<int>(st.memory_items); i < total; ++i) {
        REQUIRE(cache.get(key_of(i)));
    }
    REQUIRE(cache.stats().disk_hits == before);
}

TEST_CASE("entries read before a set do not outrank the entry it stores", "[cache]") {
    // Every entry is read, then a new one is set: the reads happened before the set, so the
    // victim must be one of the read entries, never the new one.
    Recorder rec;
    const std::string value = value_of(8_KiB, 'w');
    Cache cache({.max_memory = 64_KiB, .max_disk = 0, .listener = rec.fn()});
    std::vector<std::string> present;
    for (int i = 0; i < 200; ++i) {
        for (const std::string& k : present) REQUIRE(cache.get(k));
        rec.current = key_of(i);
        const std::size_t victims_before = rec.victims.size();
        cache.set(key_of(i), std::string_view(value));
        INFO("set of " << key_of(i));
        REQUIRE(cache.contains(key_of(i)));
        REQUIRE(cache.memory_bytes() <= 64_KiB);
        for (std::size_t v = victims_before; v < rec.victims.size(); ++v) {
            auto it = std::find(present.begin(), present.end(), rec.victims[v]);
            REQUIRE(it != present.end());
            present.erase(it);
        }
        present.push_back(key_of(i));
    }
    REQUIRE(rec.self_victims.empty());
    REQUIRE(cache.stats().memory_items == present.size());
}

TEST_CASE("entries read since they were set outlive older unread ones across shards",
          "[cache]") {
    // Many small entries over 16 shards; every fourth old key is read before new sets come.
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = probe.entry_charge(key_of(100).size(), 300);
    const std::size_t capacity = 64;
    Recorder rec;
    Cache cache({.max_memory = capacity * charge + charge / 2, .max_disk = 0, .shards = 16,
                 .listener = rec.fn()});
    const std::string value = value_of(300, 'r');
    for (int i = 0; i < static_cast<int>(capacity); ++i) {
        cache.set(key_of(100 + i), std::string_view(value));
    }
    REQUIRE(cache.stats().evictions == 0);
    std::set<std::string> read;
    for (int i = 0; i < static_cast<int>(capacity); i += 4) {
        REQUIRE(cache.get(key_of(100 + i)));
        read.insert(key_of(100 + i));
    }
    // Exactly as many new sets as there are unread entries: LRU evicts all the unread ones,
    // oldest first, and none of the read ones nor any new one.
    const int unread = static_cast<int>(capacity - read.size());
    for (int n = 0; n < unread; ++n) {
        rec.current = key_of(200 + n);
        cache.set(key_of(200 + n), std::string_view(value));
        REQUIRE(cache.contains(key_of(200 + n)));
    }
    REQUIRE(rec.self_victims.empty());
    REQUIRE(rec.victims.size() == static_cast<std::size_t>(unread));
    int last = -1;
    for (const std::string& v : rec.victims) {
        INFO("victim " << v);
        REQUIRE(read.count(v) == 0);
        REQUIRE(index_of(v) < 200);
        REQUIRE(index_of(v) > last);  // oldest first
        last = index_of(v);
    }
    for (const std::string& k : read) REQUIRE(cache.contains(k));
}

TEST_CASE("a large set evicting several entries keeps itself over an entry read earlier",
          "[cache]") {
    // One shard: x is read after y is set, then n (2.5 entries' worth) needs two evictions.
    // LRU order is y (set, unread), x (read before n was set), n: n must stay.
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t c = probe.entry_charge(1, 1000);
    Recorder rec;
    Cache cache({.max_memory = 3 * c, .max_disk = 0, .shards = 1, .listener = rec.fn()});
    cache.set("x", std::string_view(value_of(1000, 'x')));
    cache.set("y", std::string_view(value_of(1000, 'y')));
    REQUIRE(cache.get("x"));
    rec.current = "n";
    cache.set("n", std::string_view(value_of(2 * c, 'n')));
    REQUIRE(cache.contains("n"));
    REQUIRE(rec.victims == std::vector<std::string>{"y", "x"});
    REQUIRE(cache.memory_bytes() <= 3 * c);
}
