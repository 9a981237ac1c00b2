// TTL expiry with an injected clock, the eviction listener's causes (and that it runs with no
// lock held), and the memory-pressure entry points the monitor uses.
#include <catch2/catch.hpp>
#include <thread>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;
using namespace std::chrono_literals;

namespace {

struct Seen {
    std::string key;
    EvictCause cause;
    std::size_t bytes;
    bool to_disk;
    std::string reason;
    bool operator==(const Seen&) const = default;
};

std::string sv(const std::optional<Bytes>& b) { return b ? std::string(b->view()) : "<miss>"; }

}  // namespace

TEST_CASE("entries expire after their TTL on the injected clock", "[cache]") {
    FakeClock clock;
    std::vector<Seen> seen;
    Cache cache({.max_memory = 1_MiB,
                 .max_disk = 0,
                 .default_ttl = 60s,
                 .listener = [&](const EvictionEvent& e) {
                     seen.push_back({std::string(e.key), e.cause, e.bytes, e.to_disk, std::string(e.reason)});
                 },
                 .clock = clock.fn()});
    cache.set("short", std::string_view("s"), {.ttl = 10s});
    cache.set("default", std::string_view("d"));
    clock.advance(9s);
    REQUIRE(sv(cache.get("short")) == "s");
    clock.advance(1s);
    REQUIRE(cache.contains("default"));
    REQUIRE_FALSE(cache.contains("short"));
    REQUIRE_FALSE(cache.get("short"));
    REQUIRE(seen == std::vector<Seen>{{"short", EvictCause::expired, cache.entry_charge(5, 1), false, ""}});
    clock.advance(50s);
    REQUIRE(cache.purge_expired() == 1);
    auto st = cache.stats();
    REQUIRE(st.expirations == 2);
    REQUIRE(st.items == 0);
    REQUIRE(st.misses == 1);
    REQUIRE(cache.memory_bytes() == 0);
}

TEST_CASE("expired entries on disk expire too", "[cache]") {
    TempDir dir;
    FakeClock clock;
    Cache cache({.max_memory = 1_MiB, .spill_dir = dir.str(), .clock = clock.fn()});
    cache.set("d", std::string_view("disk"), {.force_disk = true, .ttl = 5s});
    REQUIRE(sv(cache.get("d")) == "disk");  // promoted, keeps its deadline
    clock.advance(5s);
    REQUIRE_FALSE(cache.get("d"));
    REQUIRE(cache.stats().expirations == 1);
}

TEST_CASE("the listener reports every cause, with no lock held", "[cache]") {
    TempDir dir;
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = probe.entry_charge(2, 1000);
    std::vector<Seen> seen;
    Cache* self = nullptr;
    std::size_t reentrant_items = 0;
    Cache cache({.max_memory = 2 * charge + charge / 2,
                 .spill_dir = dir.str(),
                 .shards = 1,
                 .listener = [&](const EvictionEvent& e) {
                     if (e.key == "side") return;
                     seen.push_back({std::string(e.key), e.cause, e.bytes, e.to_disk, std::string(e.reason)});
                     // Each of these would deadlock if the listener ran under a cache lock.
                     reentrant_items = self->stats().items;
                     REQUIRE(self->contains(e.key) == (e.cause != EvictCause::removed));
                     if (!self->contains("side")) self->set("side", std::string_view("s"), {.force_disk = true});
                 }});
    self = &cache;
    cache.set("k0", std::string_view(value_of(1000, 'a')));
    cache.set("k0", std::string_view(value_of(1000, 'b')));  // replaced
    cache.set("k1", std::string_view(value_of(1000, 'c')));
    cache.set("k2", std::string_view(value_of(1000, 'd')));  // k0 spilled
    REQUIRE(cache.erase("k1"));                             // removed
    REQUIRE(seen.size() == 3);
    REQUIRE(seen[0] == Seen{"k0", EvictCause::replaced, charge, false, ""});
    REQUIRE(seen[1].key == "k0");
    REQUIRE(seen[1].cause == EvictCause::spilled);
    REQUIRE(seen[1].to_disk);
    REQUIRE(seen[2] == Seen{"k1", EvictCause::removed, charge, false, ""});
    REQUIRE(reentrant_items >= 2);
    REQUIRE(sv(cache.get("k0")) == value_of(1000, 'b'));
}

TEST_CASE("memory pressure spills the coldest entries and reports the reason", "[cache]") {
    TempDir dir;
    Cache probe({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = probe.entry_charge(2, 1000);
    const std::size_t on_disk = probe.disk_entry_charge(2);  // what a spilled entry still costs
    const std::size_t value_charge = charge - on_disk;       // what spilling one frees
    std::vector<Seen> seen;
    Cache cache({.max_memory = 10 * charge,
                 .spill_dir = dir.str(),
                 .shards = 1,
                 .listener = [&](const EvictionEvent& e) {
                     seen.push_back({std::string(e.key), e.cause, e.bytes, e.to_disk, std::string(e.reason)});
                 }});
    for (int i = 0; i < 8; ++i) cache.set("k" + std::to_string(i), std::string_view(value_of(1000, 'p')));
    REQUIRE(cache.max_memory() == 10 * charge);

    // Down to room for 5 entries (plus the index of the spilled ones): the 3 coldest go.
    const std::size_t moved = cache.set_memory_limit(5 * charge + 3 * on_disk,
                                                     "container usage crossed 85 %");
    REQUIRE(moved == 3 * value_charge);
    REQUIRE(cache.memory_limit() == 5 * charge + 3 * on_disk);
    REQUIRE(seen.size() == 3);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(seen[i] == Seen{"k" + std::to_string(i), EvictCause::pressure, value_charge, true,
                                "container usage crossed 85 %"});
    }
    REQUIRE(cache.stats().memory_items == 5);

    seen.clear();
    REQUIRE(cache.spill_coldest(0.4, "warning") == 2 * value_charge);  // 40 % of 5 entries
    REQUIRE(seen.size() == 2);
    REQUIRE(seen[0].key == "k3");
    REQUIRE(seen[1].key == "k4");
    REQUIRE(cache.spill_all("critical") == 3 * value_charge);
    REQUIRE(cache.stats().memory_items == 0);
    REQUIRE(cache.stats().disk_items == 8);
    REQUIRE(cache.memory_bytes() == 8 * on_disk);  // only the index is left
    REQUIRE(cache.set_memory_limit(100 * charge) == 0);  // raising is capped at max_memory
    REQUIRE(cache.memory_limit() == 10 * charge);
    REQUIRE_THROWS_AS(cache.spill_coldest(1.5), std::invalid_argument);
    for (int i = 0; i < 8; ++i) REQUIRE(sv(cache.get("k" + std::to_string(i))) == value_of(1000, 'p'));
}

TEST_CASE("without a disk, pressure drops entries", "[cache]") {
    Cache cache({.max_memory = 1_MiB, .max_disk = 0});
    const std::size_t charge = cache.entry_charge(2, 1000);
    for (int i = 0; i < 4; ++i) cache.set("k" + std::to_string(i), std::string_view(value_of(1000, 'x')));
    REQUIRE(cache.spill_all("test") == 4 * charge);
    REQUIRE(cache.stats().items == 0);
    REQUIRE(cache.memory_bytes() == 0);
}

TEST_CASE("shrink_all_caches empties every live cache, even while caches come and go", "[cache]") {
    TempDir dir;
    Cache a({.max_memory = 1_MiB, .spill_dir = dir.str()});
    Cache b({.max_memory = 1_MiB, .max_disk = 0});
    for (int i = 0; i < 10; ++i) {
        a.set("a" + std::to_string(i), std::string_view(value_of(1000, 'a')));
        b.set("b" + std::to_string(i), std::string_view(value_of(1000, 'b')));
    }
    const std::size_t expected = (a.entry_charge(2, 1000) - a.disk_entry_charge(2)) * 10 + b.entry_charge(2, 1000) * 10;
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop.load()) {
            Cache c({.max_memory = 64_KiB, .max_disk = 0});
            c.set("x", std::string_view("y"));
        }
    });
    const std::size_t recovered = shrink_all_caches("force_cleanup");
    stop = true;
    churn.join();
    REQUIRE(recovered >= expected);
    REQUIRE(a.stats().memory_items == 0);
    REQUIRE(a.stats().disk_items == 10);
    REQUIRE(b.stats().items == 0);
    REQUIRE(sv(a.get("a3")) == value_of(1000, 'a'));
    REQUIRE(shrink_all_caches("again") >= a.entry_charge(2, 1000) - a.disk_entry_charge(2));
}
