// MemoryMonitor with an injected clock and source: exact callback sequences across threshold
// crossings, hysteresis against flapping, the repeat interval, bytes thresholds, check(),
// subscriptions, shutdown and option errors. Time moves only through ManualClock::advance.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "heapwise/monitor.hpp"
#include "scripted.hpp"

using heapwise::Level;
using namespace std::chrono_literals;

namespace {

struct Rig {
    std::shared_ptr<heapwise::ManualClock> clock = std::make_shared<heapwise::ManualClock>();
    hwtest::ScriptedSource source;
    hwtest::Recorder rec;

    heapwise::MonitorOptions options() {
        heapwise::MonitorOptions o;
        o.interval = 1s;
        o.repeat = 0s;
        o.psi = false;
        o.clock = clock;
        o.source = [this] { return source(); };
        return o;
    }
    // One sample at each reading, one interval apart.
    void feed(std::initializer_list<double> percents) {
        for (double p : percents) {
            source.set_percent(p);
            REQUIRE(clock->advance(1s));
        }
    }
};

}  // namespace

TEST_CASE("levels follow threshold crossings with hysteresis, in order", "[monitor]") {
    Rig rig;
    rig.source.set_percent(50);
    heapwise::MemoryMonitor mon(rig.options());  // warning 80, critical 90, band 5
    auto sub = mon.on_level(rig.rec.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));  // the first sample has been taken
    CHECK(mon.samples() == 1);

    rig.feed({79, 80});
    CHECK(rig.rec.levels() == std::vector{Level::warning});
    rig.feed({85, 78});  // 78 is inside the band (>= 75): still warning
    CHECK(mon.level() == Level::warning);
    rig.feed({74.9});
    rig.feed({91, 86});  // 86 is inside critical's band (>= 85)
    CHECK(mon.level() == Level::critical);
    rig.feed({84.9, 95, 50});  // 50 drops past both bands at once
    CHECK(rig.rec.levels() == std::vector{Level::warning, Level::normal, Level::critical,
                                          Level::warning, Level::critical, Level::normal});
    // Each callback saw the reading that caused it.
    auto calls = rig.rec.calls();
    CHECK(calls[0].used == 800000);
    CHECK(calls[1].used == 749000);
    CHECK(calls[3].used == 849000);
    CHECK(calls[5].used == 500000);
    CHECK(mon.samples() == 11);
}

TEST_CASE("hysteresis stops a reading hovering at a threshold from flapping", "[monitor]") {
    const std::initializer_list<double> hover = {79.5, 80.5, 79.0, 80.2, 77.0, 80.0, 76.0, 81.0};
    SECTION("with a 5-point band: one notification") {
        Rig rig;
        heapwise::MemoryMonitor mon(rig.options());
        auto sub = mon.on_level(rig.rec.callback());
        REQUIRE(rig.clock->wait_for_sleepers(1));
        rig.feed(hover);
        CHECK(rig.rec.levels() == std::vector{Level::warning});
    }
    SECTION("without a band every crossing is reported") {
        Rig rig;
        auto o = rig.options();
        o.hysteresis = 0.0;
        heapwise::MemoryMonitor mon(o);
        auto sub = mon.on_level(rig.rec.callback());
        REQUIRE(rig.clock->wait_for_sleepers(1));
        rig.feed(hover);
        CHECK(rig.rec.size() == 7);
    }
}

TEST_CASE("the repeat interval re-notifies a lasting level, and only that often", "[monitor]") {
    Rig rig;
    auto o = rig.options();
    o.repeat = 3s;
    heapwise::MemoryMonitor mon(o);
    auto sub = mon.on_level(rig.rec.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    std::vector<std::size_t> counts;
    for (int i = 0; i < 8; ++i) {
        rig.feed({85});
        counts.push_back(rig.rec.size());
    }
    // Warning at t=1, repeated at t=4 and t=7.
    CHECK(counts == std::vector<std::size_t>{1, 1, 1, 2, 2, 2, 3, 3});
    rig.feed({60});  // back to normal: told once, and normal is never repeated
    rig.feed({60, 60, 60, 60});
    CHECK(rig.rec.levels() ==
          std::vector{Level::warning, Level::warning, Level::warning, Level::normal});
}

TEST_CASE("a subscriber joining at a raised level is told at the next sample", "[monitor]") {
    Rig rig;
    rig.source.set_percent(92);
    heapwise::MemoryMonitor mon(rig.options());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    CHECK(mon.level() == Level::critical);
    auto sub = mon.on_level(rig.rec.callback());
    rig.feed({92});
    CHECK(rig.rec.levels() == std::vector{Level::critical});
}

TEST_CASE("absolute byte thresholds on the process's RSS", "[monitor]") {
    Rig rig;
    auto o = rig.options();
    o.metric = heapwise::Metric::process;
    o.warning_bytes = 300 << 20;
    o.critical_bytes = 400 << 20;
    o.hysteresis_bytes = 50 << 20;
    heapwise::MemoryMonitor mon(o);
    auto sub = mon.on_level(rig.rec.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    for (std::uint64_t mib : {100, 300, 399, 420, 360, 349, 200}) {
        rig.source.set_rss(mib << 20);
        REQUIRE(rig.clock->advance(1s));
    }
    CHECK(rig.rec.levels() == std::vector{Level::warning, Level::critical, Level::warning,
                                          Level::normal});
    auto r = mon.check();
    CHECK(r.bytes == 200u << 20);
    CHECK(r.level == Level::normal);
}

TEST_CASE("check() reads now, on the caller's thread, and changes no state", "[monitor]") {
    Rig rig;
    heapwise::MemoryMonitor mon(rig.options());
    auto sub = mon.on_level(rig.rec.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    rig.source.set_percent(95);
    auto r = mon.check();
    CHECK(r.level == Level::critical);
    CHECK(r.percent == Approx(95.0));
    CHECK(r.bytes == 950000);
    CHECK(r.limit == hwtest::ScriptedSource::kLimit);
    CHECK(mon.level() == Level::normal);
    CHECK(rig.rec.size() == 0);
    CHECK(mon.samples() == 1);
}

TEST_CASE("a destroyed subscription is never called again; order of destruction is free",
          "[monitor]") {
    Rig rig;
    hwtest::Recorder other;
    auto mon = std::make_unique<heapwise::MemoryMonitor>(rig.options());
    auto sub = mon->on_level(rig.rec.callback());
    auto sub2 = mon->on_level(other.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    rig.feed({85});
    sub.reset();
    rig.feed({95});
    CHECK(rig.rec.levels() == std::vector{Level::warning});
    CHECK(other.levels() == std::vector{Level::warning, Level::critical});
    mon.reset();  // the monitor goes first; the subscription outlives it harmlessly
    sub2.reset();
    CHECK_FALSE(sub2);
}

TEST_CASE("a throwing callback does not stop the monitor", "[monitor]") {
    Rig rig;
    heapwise::MemoryMonitor mon(rig.options());
    auto bad = mon.on_level([](Level, const heapwise::MemoryStats&) { throw std::runtime_error("x"); });
    auto sub = mon.on_level(rig.rec.callback());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    rig.feed({85, 95});
    CHECK(rig.rec.levels() == std::vector{Level::warning, Level::critical});
}

TEST_CASE("the monitor thread sleeps between samples and stops promptly", "[monitor]") {
    hwtest::ScriptedSource source;
    heapwise::MonitorOptions o;
    o.interval = std::chrono::hours(1);
    o.psi = false;
    o.source = [&source] { return source(); };
    auto start = std::chrono::steady_clock::now();
    {
        heapwise::MemoryMonitor mon(o);
        while (mon.samples() < 1) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(50ms);
        CHECK(source.reads() == 1);  // no busy loop: one read in 50 ms with a 1 h interval
    }
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("log_stats writes one line with the level, figures and mode", "[monitor]") {
    Rig rig;
    rig.source.set_percent(85);
    heapwise::MemoryMonitor mon(rig.options());
    REQUIRE(rig.clock->wait_for_sleepers(1));
    std::ostringstream out;
    mon.log_stats(out);
    std::string line = out.str();
    CHECK(line.find("level=warning container 85.0%") != std::string::npos);
    CHECK(line.find("mode=polling") != std::string::npos);
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    CHECK(line.back() == '\n');
}

TEST_CASE("bad options are refused with a clear message", "[monitor]") {
    auto refuses = [](heapwise::MonitorOptions o, const std::string& text) {
        o.psi = false;
        try {
            heapwise::MemoryMonitor mon(o);
            FAIL("accepted: " << text);
        } catch (const std::invalid_argument& e) {
            CHECK_THAT(e.what(), Catch::Contains(text));
        }
    };
    refuses({.warning = 0.0}, "warning threshold must be > 0 (got 0)");
    refuses({.warning = -5.0}, "warning threshold must be > 0 (got -5)");
    refuses({.critical = -1.0}, "critical threshold must be > 0");
    refuses({.warning = 95.0, .critical = 90.0}, "must not exceed critical");
    refuses({.critical = 150.0}, "<= 100");
    refuses({.warning_bytes = 100}, "must both be set");
    refuses({.warning_bytes = 200, .critical_bytes = 100}, "must not exceed critical_bytes");
    refuses({.interval = std::chrono::milliseconds(0)}, "interval must be > 0");
    refuses({.window = 0}, "window must hold at least 1 sample");
    heapwise::MonitorOptions o;
    o.psi = true;
    o.psi_trigger = "some 150000";
    CHECK_THROWS_WITH(heapwise::MemoryMonitor(o), Catch::Contains("psi_trigger 'some 150000'"));
    o.psi_trigger = "some 2000000 1000000";
    CHECK_THROWS_WITH(heapwise::MemoryMonitor(o), Catch::Contains("stall must be > 0 and <= window"));
    heapwise::MemoryMonitor ok({.psi = false});
    CHECK_THROWS_AS(ok.on_level(nullptr), std::invalid_argument);
}

TEST_CASE("real clock and real /proc: RSS growth past a byte threshold is reported", "[monitor]") {
    const std::uint64_t rss = heapwise::memory_stats(heapwise::StatsParts::process).process.rss;
    REQUIRE(rss > 0);
    heapwise::MonitorOptions o;
    o.metric = heapwise::Metric::process;
    o.warning_bytes = rss + (32u << 20);
    o.critical_bytes = rss + (1u << 30);
    o.interval = 20ms;
    o.psi = false;
    heapwise::MemoryMonitor mon(o);
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Level> seen;
    auto sub = mon.on_level([&](Level l, const heapwise::MemoryStats&) {
        std::lock_guard g(mu);
        seen.push_back(l);
        cv.notify_all();
    });
    constexpr std::size_t kSize = 64u << 20;
    auto block = std::make_unique<char[]>(kSize);
    std::memset(block.get(), 7, kSize);  // touched: resident
    std::unique_lock lk(mu);
    CHECK(cv.wait_for(lk, 10s, [&] { return !seen.empty(); }));
    REQUIRE(!seen.empty());
    CHECK(seen.front() == Level::warning);
    CHECK(mon.window().max >= o.warning_bytes);
    volatile char sink = block[kSize / 2];  // keeps the stores above from being elided
    CHECK(sink == 7);
}
