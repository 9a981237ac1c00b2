// The monitor's rolling window statistics with known inputs, and how it reports PSI mode: armed
// where the kernel accepts a trigger, polling (with the reason) where it does not.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "heapwise/monitor.hpp"
#include "scripted.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;

namespace {

heapwise::MonitorOptions manual(std::shared_ptr<heapwise::ManualClock> clock,
                                hwtest::ScriptedSource& source) {
    heapwise::MonitorOptions o;
    o.psi = false;
    o.clock = std::move(clock);
    o.source = [&source] { return source(); };
    return o;
}

}  // namespace

TEST_CASE("window: min, max, mean, nearest-rank percentiles, slope and growth", "[monitor]") {
    auto clock = std::make_shared<heapwise::ManualClock>();
    hwtest::ScriptedSource source;
    auto o = manual(clock, source);
    o.window = 5;
    o.interval = 2s;
    source.set_used(100);
    heapwise::MemoryMonitor mon(o);
    REQUIRE(clock->wait_for_sleepers(1));
    auto w = mon.window();
    CHECK(w.count == 1);
    CHECK(w.slope == 0.0);
    for (std::uint64_t used : {700, 300, 500, 400, 900}) {  // 100 falls out of the window
        source.set_used(used);
        REQUIRE(clock->advance(2s));
    }
    w = mon.window();
    CHECK(w.count == 5);
    CHECK(w.min == 300);
    CHECK(w.max == 900);
    CHECK(w.mean == 560.0);
    CHECK(w.p50 == 500);  // sorted 300 400 500 700 900: ceil(0.5*5) = 3rd
    CHECK(w.p90 == 900);  // ceil(4.5) = 5th
    CHECK(w.p99 == 900);
    CHECK(w.growth == 200);
    CHECK(w.seconds == 8.0);
    // x = 0 2 4 6 8 s, y = 700 300 500 400 900: sxy = 1000, sxx = 40 -> 25 bytes/s
    CHECK(w.slope == Approx(25.0));
    CHECK(w.last_percent == Approx(0.09));
}

TEST_CASE("window: a steady leak shows as its exact rate", "[monitor]") {
    auto clock = std::make_shared<heapwise::ManualClock>();
    hwtest::ScriptedSource source;
    auto o = manual(clock, source);
    o.window = 60;
    source.set_used(1000000 / 2);
    heapwise::MemoryMonitor mon(o);
    REQUIRE(clock->wait_for_sleepers(1));
    for (int i = 1; i <= 30; ++i) {
        source.set_used(500000 + 1024 * static_cast<std::uint64_t>(i));
        REQUIRE(clock->advance(1s));
    }
    auto w = mon.window();
    CHECK(w.count == 31);
    CHECK(w.slope == Approx(1024.0));
    CHECK(w.growth == 30 * 1024);
    CHECK(w.p50 == 500000 + 15 * 1024);
}

TEST_CASE("psi: a path that is not a pressure file falls back to polling", "[monitor]") {
    hwtest::TempDir tmp;
    std::string fake = (tmp.path() / "memory.pressure").string();
    int fd = ::open(fake.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    heapwise::MonitorOptions o;
    o.interval = 1h;
    o.psi_path = fake;
    heapwise::MemoryMonitor mon(o);
    CHECK(mon.mode() == heapwise::MonitorMode::polling);
    CHECK_THAT(mon.mode_detail(), Catch::Contains(fake + ": not a pressure file"));

    o.psi_path = (tmp.path() / "missing").string();
    heapwise::MemoryMonitor mon2(o);
    CHECK(mon2.mode() == heapwise::MonitorMode::polling);
    CHECK_THAT(mon2.mode_detail(), Catch::Contains("missing: No such file or directory"));

    o.psi = false;
    heapwise::MemoryMonitor mon3(o);
    CHECK(mon3.mode() == heapwise::MonitorMode::polling);
    CHECK(mon3.mode_detail() == "psi disabled by options");
}

TEST_CASE("psi: the mode reported matches what the kernel accepts here", "[monitor]") {
    heapwise::MonitorOptions o;
    o.interval = 1h;
    heapwise::MemoryMonitor mon(o);
    std::string detail = mon.mode_detail();
    INFO("mode " << heapwise::to_string(mon.mode()) << ": " << detail);
    REQUIRE_FALSE(detail.empty());
    if (mon.mode() == heapwise::MonitorMode::psi) {
        // "PATH 'TRIGGER'": arming the same trigger ourselves must work too.
        auto q = detail.find(" '");
        REQUIRE(q != std::string::npos);
        std::string path = detail.substr(0, q);
        std::string trigger = detail.substr(q + 2, detail.size() - q - 3);
        CHECK((path.ends_with("memory.pressure") || path == "/proc/pressure/memory"));
        int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(fd >= 0);
        CHECK(::write(fd, trigger.c_str(), trigger.size() + 1) > 0);
        ::close(fd);
    } else {
        // Polling: /proc/pressure/memory must indeed refuse both triggers tried.
        int fd = ::open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            const char* t1 = "some 150000 1000000";
            const char* t2 = "some 300000 2000000";
            CHECK(::write(fd, t1, std::strlen(t1) + 1) < 0);
            CHECK(::write(fd, t2, std::strlen(t2) + 1) < 0);
            ::close(fd);
        }
        CHECK_THAT(detail, Catch::Contains("/proc/pressure/memory"));
    }
}
