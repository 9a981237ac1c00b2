// attach() with a real Cache spilling to a temp dir, driven by an injected clock and source:
// warning spills the configured fraction (coldest first), critical spills everything, regrowth
// is rate-limited, the listener sees the reason text, and either side may be destroyed first.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "heapwise/cache.hpp"
#include "heapwise/monitor.hpp"
#include "scripted.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace heapwise::literals;

namespace {

struct Event {
    std::string key;
    heapwise::EvictCause cause;
    std::size_t bytes;
    bool to_disk;
    std::string reason;
};

struct Rig {
    hwtest::TempDir tmp;
    std::mutex mu;
    std::vector<Event> events;
    std::vector<heapwise::CacheAction> actions;
    std::shared_ptr<heapwise::ManualClock> clock = std::make_shared<heapwise::ManualClock>();
    hwtest::ScriptedSource source;
    std::unique_ptr<heapwise::Cache> cache;

    Rig() {
        heapwise::CacheOptions o;
        o.max_memory = 8_MiB;
        o.max_disk = 256_MiB;
        o.spill_dir = tmp.path().string();
        o.shards = 1;  // one LRU list: "coldest" is then a global order the test can check
        o.listener = [this](const heapwise::EvictionEvent& e) {
            std::lock_guard g(mu);
            events.push_back({std::string(e.key), e.cause, e.bytes, e.to_disk, std::string(e.reason)});
        };
        cache = std::make_unique<heapwise::Cache>(std::move(o));
        for (int i = 0; i < 64; ++i) cache->set(key(i), std::string(64_KiB, static_cast<char>('a' + i % 26)));
        REQUIRE(cache->get(key(0)));  // key 0 becomes the most recently used
        std::lock_guard g(mu);
        events.clear();
    }
    static std::string key(int i) { return "page-" + std::to_string(i); }
    heapwise::MonitorOptions options() {
        heapwise::MonitorOptions o;
        o.interval = 1s;
        o.repeat = 0s;
        o.psi = false;
        o.clock = clock;
        o.source = [this] { return source(); };
        return o;
    }
    heapwise::AttachOptions attach_options() {
        heapwise::AttachOptions a;
        a.spill_fraction = 0.25;
        a.regrow_step = 0.25;
        a.regrow_interval = 10s;
        a.on_action = [this](const heapwise::CacheAction& act) {
            std::lock_guard g(mu);
            actions.push_back(act);
        };
        return a;
    }
    void step(double percent) {
        source.set_percent(percent);
        REQUIRE(clock->advance(1s));
    }
};

}  // namespace

TEST_CASE("attach: warning spills the coldest fraction, critical all, regrowth is rate-limited",
          "[monitor]") {
    Rig rig;
    heapwise::Cache& cache = *rig.cache;
    const std::size_t held = cache.memory_bytes();
    REQUIRE(held >= 4_MiB);
    REQUIRE(cache.memory_limit() == 8_MiB);
    heapwise::MemoryMonitor mon(rig.options());
    mon.attach(cache, rig.attach_options());
    REQUIRE(rig.clock->wait_for_sleepers(1));

    rig.step(85);  // warning: the limit drops to 75 % of what the cache held
    const auto expected = static_cast<std::size_t>(static_cast<double>(held) * 0.75);
    CHECK(cache.memory_limit() == expected);
    CHECK(cache.memory_bytes() <= expected);
    {
        std::lock_guard g(rig.mu);
        REQUIRE(rig.actions.size() == 1);
        CHECK(rig.actions[0].kind == heapwise::CacheAction::Kind::spill);
        CHECK(rig.actions[0].bytes == held - cache.memory_bytes());
        CHECK(rig.actions[0].limit == expected);
        CHECK_THAT(rig.actions[0].text,
                   Catch::StartsWith("spilled ") &&
                       Catch::EndsWith(" because container usage crossed 80 % (85.0 % now)"));
        REQUIRE(!rig.events.empty());
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < rig.events.size(); ++i) {
            const Event& e = rig.events[i];
            CHECK(e.key == Rig::key(static_cast<int>(i) + 1));  // coldest first; key 0 was used
            CHECK(e.cause == heapwise::EvictCause::pressure);
            CHECK(e.to_disk);
            CHECK(e.reason == rig.actions[0].text);  // the measured action, not a forecast
            bytes += e.bytes;
        }
        CHECK(bytes == rig.actions[0].bytes);
        rig.events.clear();
    }

    rig.step(95);  // critical: everything to disk, the limit held at its floor (1/16)
    CHECK(cache.stats().memory_items == 0);
    CHECK(cache.memory_bytes() < 16_KiB);  // what is left is the on-disk entries' bookkeeping
    CHECK(cache.memory_limit() == 8_MiB / 16);
    {
        std::lock_guard g(rig.mu);
        REQUIRE(rig.actions.size() == 2);
        CHECK(rig.actions[1].kind == heapwise::CacheAction::Kind::spill_all);
        CHECK_THAT(rig.actions[1].text, Catch::EndsWith("container usage crossed 90 % (95.0 % now)"));
        REQUIRE(!rig.events.empty());
        CHECK_THAT(rig.actions[1].text, Catch::StartsWith("spilled "));
        std::size_t bytes = 0;
        for (const Event& e : rig.events) {
            CHECK(e.reason == rig.actions[1].text);
            bytes += e.bytes;
        }
        CHECK(bytes == rig.actions[1].bytes);
    }
    CHECK(cache.stats().disk_items == 64);

    // Back to normal at t=3; the last change was at t=2, so regrowth waits until t=12, then
    // adds a quarter of max_memory every 10 s until the limit is back at max_memory.
    std::vector<std::pair<int, std::size_t>> changes;
    std::size_t limit = cache.memory_limit();
    for (int t = 3; t <= 50; ++t) {
        rig.step(50);
        if (cache.memory_limit() != limit) {
            limit = cache.memory_limit();
            changes.emplace_back(t, limit);
        }
    }
    CHECK(changes == std::vector<std::pair<int, std::size_t>>{
                         {12, 512_KiB + 2_MiB}, {22, 512_KiB + 4_MiB}, {32, 512_KiB + 6_MiB}, {42, 8_MiB}});
    {
        std::lock_guard g(rig.mu);
        REQUIRE(rig.actions.size() == 6);
        CHECK(rig.actions[2].kind == heapwise::CacheAction::Kind::regrow);
        CHECK(rig.actions[2].text ==
              "memory limit raised to 2.5 MiB because container usage is back at 50.0 %");
    }
    auto v = cache.get(Rig::key(1));  // spilled values come back from disk intact
    REQUIRE(v);
    CHECK(v->size() == 64_KiB);
}

TEST_CASE("attach: the cache may be destroyed first, or the monitor", "[monitor]") {
    SECTION("cache first") {
        Rig rig;
        heapwise::MemoryMonitor mon(rig.options());
        mon.attach(*rig.cache, rig.attach_options());
        REQUIRE(rig.clock->wait_for_sleepers(1));
        rig.cache.reset();
        rig.step(95);  // the link has expired: nothing to act on, nothing dangling
        rig.step(50);
        std::lock_guard g(rig.mu);
        CHECK(rig.actions.empty());
    }
    SECTION("monitor first") {
        Rig rig;
        {
            heapwise::MemoryMonitor mon(rig.options());
            mon.attach(*rig.cache, rig.attach_options());
            REQUIRE(rig.clock->wait_for_sleepers(1));
        }
        rig.cache->set("after", std::string("x"));
        CHECK(rig.cache->memory_limit() == 8_MiB);
    }
    SECTION("detach") {
        Rig rig;
        heapwise::MemoryMonitor mon(rig.options());
        mon.attach(*rig.cache, rig.attach_options());
        REQUIRE(rig.clock->wait_for_sleepers(1));
        mon.detach(*rig.cache);
        rig.step(95);
        CHECK(rig.cache->memory_limit() == 8_MiB);
        CHECK(rig.cache->memory_bytes() > 0);
    }
}

TEST_CASE("attach: bad options are refused", "[monitor]") {
    Rig rig;
    heapwise::MemoryMonitor mon(rig.options());
    heapwise::AttachOptions a;
    a.spill_fraction = 0.0;
    CHECK_THROWS_WITH(mon.attach(*rig.cache, a), Catch::Contains("spill_fraction must be in (0, 1]"));
    a.spill_fraction = 1.5;
    CHECK_THROWS_AS(mon.attach(*rig.cache, a), std::invalid_argument);
    a = {};
    a.regrow_step = -1;
    CHECK_THROWS_WITH(mon.attach(*rig.cache, a), Catch::Contains("regrow_step"));
    a = {};
    a.floor = 1.0;
    CHECK_THROWS_WITH(mon.attach(*rig.cache, a), Catch::Contains("floor"));
}
