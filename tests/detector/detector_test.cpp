// The detector over a scripted live view (fake_tracer.hpp): exact compare_to and statistics rows
// by every key, with real symbols (the stacks are return addresses in sites.cpp and
// sites_other.cpp), filters, the report, sampling, the internal bracket, and every misuse with
// its typed error. The detector is the real libheapwise; the e2e tests run it under the real
// tracer.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <sstream>
#include <string>

#include "fake_tracer.hpp"
#include "heapwise/leak_detector.hpp"
#include "sites.hpp"

using namespace heapwise;
using heapwise::test::fake;
using Code = DetectorError::Code;

namespace {

std::string self_name() {
    return std::filesystem::read_symlink("/proc/self/exe").filename().string();
}

void set_site(std::uint32_t stack, std::uint64_t bytes, std::uint64_t count) {
    std::lock_guard lk(fake().mu);
    auto& s = fake().sites[stack];
    if (bytes > s.live_bytes) s.bytes_allocated += bytes - s.live_bytes;
    if (count > s.live_count) s.allocs += count - s.live_count;
    s.live_bytes = bytes;
    s.live_count = count;
}

// Stacks 1 (alpha), 2 (beta), 3 (gamma, another file), 4 (alpha called from outer).
void script_stacks() {
    capture_sites();
    std::lock_guard lk(fake().mu);
    fake().stacks[1] = {g_ra_alpha};
    fake().stacks[2] = {g_ra_beta};
    fake().stacks[3] = {g_ra_gamma};
    fake().stacks[4] = {g_ra_alpha, g_ra_outer};
}

template <class F>
Code error_of(F&& f) {
    try {
        f();
    } catch (const DetectorError& e) {
        return e.code();
    }
    FAIL("no DetectorError");
    return Code::bad_argument;
}

}  // namespace

TEST_CASE("compare_to by lineno: exact rows, tracemalloc's order and text", "[detector]") {
    test::reset_fake();
    script_stacks();
    LeakDetector det;
    set_site(1, 100, 1);
    set_site(2, 5000, 5);
    Snapshot base = det.take_snapshot("base");
    set_site(1, 100 + 3000 * 4300, 3001);
    set_site(2, 1000, 1);
    set_site(3, 2048, 2);
    set_site(4, 512, 1);
    Snapshot now = det.take_snapshot("now");

    CHECK(base.label() == "base");
    CHECK(now.live_bytes() == 12900100 + 1000 + 2048 + 512);
    CHECK(now.live_count() == 3001 + 1 + 2 + 1);
    CHECK(now.sites() == 4);
    CHECK_FALSE(now.estimated());
    CHECK(now.pid() == static_cast<std::uint32_t>(::getpid()));
    {
        std::lock_guard lk(fake().mu);
        REQUIRE(fake().markers.size() == 3);
        CHECK(fake().markers[0] == det.baseline().label());
        CHECK(fake().markers[0].starts_with("detector-"));
        CHECK(fake().markers[0].ends_with("-baseline"));
        CHECK(fake().markers[1] == "base");
        CHECK(fake().markers[2] == "now");
    }

    const Differences d = now.compare_to(base, By::lineno);
    REQUIRE(d.size() == 3);
    const std::string file = d[0].site.file;
    CHECK(file.ends_with("tests/detector/sites.cpp"));
    const std::string alpha = file + ":" + std::to_string(g_line_alpha);
    const std::string beta = file + ":" + std::to_string(g_line_beta);
    CHECK(d[0].key == alpha);
    CHECK(d[0].site.function == "hw_det_site_alpha");
    CHECK(d[0].site.line == static_cast<std::uint32_t>(g_line_alpha));
    CHECK(d[0].site.module == self_name());
    CHECK(d[0].size == 12900612);
    CHECK(d[0].size_diff == 12900512);
    CHECK(d[0].count == 3002);
    CHECK(d[0].count_diff == 3001);
    CHECK(to_string(d[0]) == alpha + ": size=12.3 MiB (+12.3 MiB), count=3002 (+3001), average=4297 B");
    CHECK(d[1].key == beta);
    CHECK(d[1].size == 1000);
    CHECK(d[1].size_diff == -4000);
    CHECK(d[1].count_diff == -4);
    CHECK(d[2].key.ends_with("tests/detector/sites_other.cpp:" + std::to_string(g_line_gamma)));
    CHECK(d[2].size_diff == 2048);
    CHECK(to_string(d[2]) == d[2].key + ": size=2048 B (+2048 B), count=2 (+2), average=1024 B");

    const auto top = now.compare_to(base).top(2);
    REQUIRE(top.size() == 2);
    CHECK(top[0].key == alpha);
    CHECK(top[1].key == beta);
    CHECK(now.compare_to(base).top(10).size() == 3);
}

TEST_CASE("compare_to and statistics by function, file, module and traceback", "[detector]") {
    test::reset_fake();
    script_stacks();
    LeakDetector det;
    set_site(2, 64, 1);
    Snapshot base = det.take_snapshot();
    set_site(1, 1000, 10);
    set_site(3, 300, 3);
    set_site(4, 40, 4);
    Snapshot now = det.take_snapshot();

    const Differences fn = now.compare_to(base, By::function);
    REQUIRE(fn.size() == 3);
    CHECK(fn[0].key == "hw_det_site_alpha");
    CHECK(fn[0].size_diff == 1040);
    CHECK(fn[0].count_diff == 14);
    CHECK(fn[1].key == "hw_det_site_gamma");
    CHECK(fn[2].key == "hw_det_site_beta");
    CHECK(fn[2].size_diff == 0);

    const Differences file = now.compare_to(base, By::file);
    REQUIRE(file.size() == 2);
    CHECK(file[0].key.ends_with("tests/detector/sites.cpp"));
    CHECK(file[0].size == 1104);
    CHECK(file[0].size_diff == 1040);
    CHECK(file[1].key.ends_with("tests/detector/sites_other.cpp"));

    const Differences mod = now.compare_to(base, By::module);
    REQUIRE(mod.size() == 1);
    CHECK(mod[0].key == self_name());
    CHECK(mod[0].size == 1404);
    CHECK(mod[0].count_diff == 17);

    const Differences tb = now.compare_to(base, By::traceback);
    REQUIRE(tb.size() == 4);  // alpha alone and alpha from outer are two tracebacks
    const auto outer = std::find_if(tb.begin(), tb.end(), [](const StatisticDiff& r) {
        return r.traceback.size() == 2;
    });
    REQUIRE(outer != tb.end());
    CHECK(outer->size == 40);
    CHECK(outer->traceback[0].starts_with("hw_det_site_alpha at "));
    CHECK(outer->traceback[1].starts_with("hw_det_outer at "));

    const Differences stats = now.statistics(By::function);
    REQUIRE(stats.size() == 3);
    CHECK(stats[0].key == "hw_det_site_alpha");
    CHECK(stats[0].size == 1040);
    CHECK(stats[0].size_diff == 1040);
    CHECK_FALSE(stats[0].has_diff);
    CHECK(to_string(stats[0]) == "hw_det_site_alpha: size=1040 B, count=14, average=74 B");
}

TEST_CASE("filters include and exclude sites by file, function and module", "[detector]") {
    test::reset_fake();
    script_stacks();
    LeakDetector det;
    Snapshot base = det.take_snapshot();
    set_site(1, 100, 1);
    set_site(2, 200, 1);
    set_site(3, 300, 1);
    Snapshot now = det.take_snapshot();
    auto keys = [&](const Filters& f) {
        std::vector<std::string> out;
        for (const auto& r : now.compare_to(base, By::function, f)) out.push_back(r.key);
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(keys({{"file:*/sites_other.cpp"}, {}}) == V{"hw_det_site_gamma"});
    CHECK(keys({{}, {"file:*/sites_other.cpp"}}) == V{"hw_det_site_beta", "hw_det_site_alpha"});
    CHECK(keys({{"function:hw_det_site_a*", "function:*beta"}, {}}) ==
          V{"hw_det_site_beta", "hw_det_site_alpha"});
    CHECK(keys({{"module:" + self_name()}, {"function:*beta"}}) ==
          V{"hw_det_site_gamma", "hw_det_site_alpha"});
    CHECK(keys({{"module:libc.so*"}, {}}).empty());
    CHECK(error_of([&] { now.compare_to(base, By::lineno, {{"line:12"}, {}}); }) == Code::bad_argument);
    CHECK(error_of([&] { now.statistics(By::lineno, {{}, {"file:"}}); }) == Code::bad_argument);
}

TEST_CASE("stacks are fetched and symbolized once per detector", "[detector]") {
    test::reset_fake();
    script_stacks();
    LeakDetector det;
    set_site(1, 10, 1);
    set_site(2, 20, 1);
    Snapshot a = det.take_snapshot();
    set_site(3, 30, 1);
    Snapshot b = det.take_snapshot();
    for (int i = 0; i < 3; ++i) {
        CHECK(b.compare_to(a, By::lineno).size() == 3);
        CHECK(b.compare_to(a, By::function).size() == 3);
    }
    std::lock_guard lk(fake().mu);
    CHECK(fake().frame_calls == 3);
}

TEST_CASE("the detector's work is bracketed as internal", "[detector]") {
    test::reset_fake();
    script_stacks();
    set_site(1, 10, 1);
    {
        LeakDetector det;
        Snapshot a = det.take_snapshot();
        Snapshot b = det.take_snapshot();
        (void)b.compare_to(a).top(5);
        (void)det.report();
        CHECK(test::internal_depth() == 0);
    }
    std::lock_guard lk(fake().mu);
    REQUIRE(fake().depth_at_snapshot.size() == 4);  // baseline, a, b, the report's own
    for (int depth : fake().depth_at_snapshot) CHECK(depth >= 1);
    CHECK(fake().internal_begins >= 6);
}

TEST_CASE("misuse gets a typed error, never a crash", "[detector]") {
    test::reset_fake();
    script_stacks();
    SECTION("no tracer recording") {
        fake().active = false;
        CHECK(error_of([] { LeakDetector det; }) == Code::no_tracer);
    }
    SECTION("the writer stopped") {
        LeakDetector det;
        fake().snapshot_errno = ECANCELED;
        CHECK(error_of([&] { det.take_snapshot(); }) == Code::no_live_view);
    }
    SECTION("a snapshot compared with itself") {
        LeakDetector det;
        Snapshot a = det.take_snapshot();
        Snapshot copy = a;
        CHECK(error_of([&] { a.compare_to(a); }) == Code::same_snapshot);
        CHECK(error_of([&] { a.compare_to(copy); }) == Code::same_snapshot);
        try {
            a.compare_to(a);
        } catch (const DetectorError& e) {
            CHECK(std::string(e.what()) == "heapwise::LeakDetector: snapshot '" + a.label() +
                                               "' compared with itself (take a second snapshot first)");
        }
    }
    SECTION("snapshots of two detectors") {
        LeakDetector one, two;
        Snapshot a = one.take_snapshot("one-a");
        Snapshot b = two.take_snapshot("two-b");
        CHECK(error_of([&] { b.compare_to(a); }) == Code::foreign_snapshot);
        CHECK(error_of([&] { two.print_report({.since = &a}); }) == Code::foreign_snapshot);
        WatchOptions w;
        w.min_growth = 1;
        w.base = &a;
        CHECK(error_of([&] { two.watch(w, [](const WatchEvent&) {}); }) == Code::foreign_snapshot);
    }
    SECTION("a snapshot of another process") {
        LeakDetector det;
        Snapshot a = det.take_snapshot();
        fake().pid = static_cast<std::uint32_t>(::getpid()) + 1;
        Snapshot b = det.take_snapshot();
        CHECK(error_of([&] { b.compare_to(a); }) == Code::other_process);
        CHECK(error_of([&] { b.statistics(); }) == Code::other_process);
    }
    SECTION("an empty snapshot") {
        LeakDetector det;
        Snapshot a = det.take_snapshot();
        Snapshot empty;
        CHECK_FALSE(empty);
        CHECK(error_of([&] { a.compare_to(empty); }) == Code::empty_snapshot);
        CHECK(error_of([&] { empty.statistics(); }) == Code::empty_snapshot);
        CHECK(error_of([&] { (void)empty.label(); }) == Code::empty_snapshot);
    }
    SECTION("bad watch options") {
        LeakDetector det;
        auto cb = [](const WatchEvent&) {};
        CHECK(error_of([&] { det.watch({}, cb); }) == Code::bad_argument);
        CHECK(error_of([&] { det.watch({.min_growth = 10, .every = std::chrono::milliseconds(0)}, cb); }) ==
              Code::bad_argument);
        CHECK(error_of([&] { det.watch({.min_growth = 10, .hysteresis = 11}, cb); }) == Code::bad_argument);
        CHECK(error_of([&] { det.watch({.min_growth = 10}, nullptr); }) == Code::bad_argument);
        CHECK(error_of([&] { det.watch({.min_growth = 10, .filters = {{"nope"}, {}}}, cb); }) ==
              Code::bad_argument);
    }
}

TEST_CASE("started late and sampled figures are reported as such", "[detector]") {
    test::reset_fake();
    script_stacks();
    fake().enable_result = 0;
    fake().since_ns = 777;
    fake().sample_interval = 4096;
    LeakDetector det;
    CHECK(det.started_late());
    CHECK(det.since_ns() == 777);
    CHECK(det.estimated());
    CHECK(det.sample_interval() == 4096);
    set_site(1, 8192, 2);
    Snapshot s = det.take_snapshot();
    CHECK(s.estimated());
    CHECK(s.statistics()[0].estimated);
    const std::string text = det.report();
    CHECK(text.find("\n  estimates: the tracer samples about every 4096 bytes; figures are scaled\n") !=
          std::string::npos);
    CHECK(text.find("\n  live view began late: blocks allocated before it are not counted\n") !=
          std::string::npos);
}

TEST_CASE("print_report lists growing sites with their code lines", "[detector]") {
    test::reset_fake();
    script_stacks();
    set_site(2, 4096, 1);
    LeakDetector det;
    set_site(1, 3 * 1024 * 1024, 3);
    set_site(2, 0, 0);
    set_site(3, 1000, 1);
    std::ostringstream out;
    using namespace heapwise::literals;
    det.print_report({.top = 10, .min_growth = 1_MiB}, out);
    const std::string text = out.str();
    const std::string first_line = text.substr(0, text.find('\n'));
    CHECK(first_line == "heapwise leak report: +3069 KiB in +3 blocks since '" + det.baseline().label() +
                            "' (0.0 s ago); 1 site grew by at least 1024 KiB (by lineno)");
    INFO(text);
    CHECK(text.find(":" + std::to_string(g_line_alpha) +
                    " in hw_det_site_alpha: +3072 KiB (size 3072 KiB), +3 blocks (count 3)\n") !=
          std::string::npos);
    CHECK(text.find("       g_line_alpha = __LINE__; g_ra_alpha = hw_det_capture_ra();\n") !=
          std::string::npos);
    CHECK(text.find("hw_det_site_gamma") == std::string::npos);  // below min_growth
    CHECK(text.find("hw_det_site_beta") == std::string::npos);   // shrank
}
