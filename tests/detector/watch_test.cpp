// LeakDetector::watch over the scripted live view, in real time with short periods: a crossing
// calls back once with the growing rows, hysteresis holds it raised until growth falls a band
// below the bound, repeat re-notifies, and dropping the handle (also from inside the callback)
// stops the thread.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "fake_tracer.hpp"
#include "heapwise/leak_detector.hpp"
#include "sites.hpp"

using namespace heapwise;
using namespace std::chrono_literals;
using heapwise::test::fake;

namespace {

void set_site(std::uint32_t stack, std::uint64_t bytes, std::uint64_t count) {
    std::lock_guard lk(fake().mu);
    fake().sites[stack].live_bytes = bytes;
    fake().sites[stack].live_count = count;
    fake().sites[stack].allocs = std::max<std::uint64_t>(fake().sites[stack].allocs, count);
}

struct Events {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<WatchEvent> got;
    void push(const WatchEvent& e) {
        std::lock_guard lk(mu);
        got.push_back(e);
        cv.notify_all();
    }
    bool wait_for(std::size_t n) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, 10s, [&] { return got.size() >= n; });
    }
    std::size_t size() {
        std::lock_guard lk(mu);
        return got.size();
    }
};

// Waits until the watch has made `n` more checks than `from`.
void wait_checks(const Watch& w, std::uint64_t from, std::uint64_t n) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (w.checks() < from + n && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(w.checks() >= from + n);
}

}  // namespace

TEST_CASE("watch calls back once per crossing, with hysteresis", "[detector]") {
    test::reset_fake();
    capture_sites();
    {
        std::lock_guard lk(fake().mu);
        fake().stacks[1] = {g_ra_alpha};
        fake().stacks[2] = {g_ra_beta};
    }
    set_site(2, 1000, 1);
    LeakDetector det;
    Events events;
    Watch w = det.watch({.min_growth = 10000, .every = 5ms, .hysteresis = 2000, .notify_fall = true},
                        [&](const WatchEvent& e) { events.push(e); });
    REQUIRE(w);
    wait_checks(w, 0, 2);
    CHECK(events.size() == 0);  // no growth yet

    set_site(1, 12000, 3);  // growth 12000 >= 10000: raised
    REQUIRE(events.wait_for(1));
    {
        std::lock_guard lk(events.mu);
        const WatchEvent& e = events.got[0];
        CHECK(e.raised);
        CHECK(e.growth == 12000);
        CHECK(e.live_bytes == 13000);
        REQUIRE(e.top.size() == 1);
        CHECK(e.top[0].site.function == "hw_det_site_alpha");
        CHECK(e.top[0].size_diff == 12000);
        CHECK(e.top[0].count_diff == 3);
        CHECK(e.snapshot.live_bytes() == 13000);
    }
    set_site(1, 9000, 2);  // 9000: below the bound but within the band: stays raised, silent
    wait_checks(w, w.checks(), 3);
    CHECK(events.size() == 1);
    set_site(1, 7000, 2);  // 7000 < 10000 - 2000: falls, told because of notify_fall
    REQUIRE(events.wait_for(2));
    set_site(1, 20000, 5);  // a second crossing
    REQUIRE(events.wait_for(3));
    w.reset();
    CHECK_FALSE(w);
    std::lock_guard lk(events.mu);
    REQUIRE(events.got.size() == 3);
    CHECK_FALSE(events.got[1].raised);
    CHECK(events.got[1].growth == 7000);
    CHECK(events.got[1].top.size() == 1);
    CHECK(events.got[2].raised);
    CHECK(events.got[2].growth == 20000);
}

TEST_CASE("watch repeats while raised and stops from inside its callback", "[detector]") {
    test::reset_fake();
    capture_sites();
    {
        std::lock_guard lk(fake().mu);
        fake().stacks[1] = {g_ra_alpha};
    }
    LeakDetector det;
    Snapshot base = det.take_snapshot("watch-base");
    set_site(1, 5000, 1);
    Events events;
    Watch w;
    std::mutex wmu;
    {
        std::lock_guard lk(wmu);
        w = det.watch({.min_growth = 100, .every = 2ms, .repeat = 1ms, .base = &base},
                      [&](const WatchEvent& e) {
                          events.push(e);
                          if (events.size() == 3) {
                              std::lock_guard lk2(wmu);
                              w.reset();  // from the watch's own thread
                          }
                      });
    }
    REQUIRE(events.wait_for(3));
    std::this_thread::sleep_for(30ms);
    CHECK(events.size() == 3);  // stopped: no fourth call
    {
        std::lock_guard lk2(wmu);  // the handle was reset on the watch thread under wmu
        CHECK_FALSE(w);
    }
    std::lock_guard lk(events.mu);
    for (const WatchEvent& e : events.got) {
        CHECK(e.raised);
        CHECK(e.growth == 5000);
    }
}
