// Leaks at exit and growth leaks at the stack level, over equal time slices and over markers;
// report figures (top sites by peak, leaked bytes and allocations).
#include <catch2/catch.hpp>

#include "analyzer/replay/leaks.hpp"
#include "trace_bytes.hpp"
#include "trace_writer.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::kMs;
using test::kSec;

namespace {

// Over 10 s, no markers. s1 grows by 1000 B at 0.5 s, 1.5 s, ... 7.5 s (8 of 10 slices) and
// keeps it; s2 allocates 5000 B once at 0.2 s and keeps it; s3 allocates 100 B at k + 0.3 s for
// k = 0..9 and frees everything at 9.9 s.
void write_growth(const std::filesystem::path& path, bool markers) {
    test::TraceWriter w(path);
    w.stack(1, {0x401000});
    w.stack(2, {0x401100});
    w.stack(3, {0x401200});
    w.alloc(200 * kMs, 0x100000, 5000, 2);
    for (std::uint64_t k = 0; k < 10; ++k) {
        if (markers && k > 0) w.marker(k * kSec, "snap-" + std::to_string(k));
        w.alloc(k * kSec + 300 * kMs, 0x300000 + k * 0x1000, 100, 3);
        if (k < 8) w.alloc(k * kSec + 500 * kMs, 0x200000 + k * 0x1000, 1000, 1);
        w.flush();
    }
    for (std::uint64_t k = 0; k < 10; ++k) w.free(9900 * kMs, 0x300000 + k * 0x1000);
    w.end(10 * kSec);
}

std::vector<GroupedSnapshot> grouped(const std::vector<Snapshot>& series) {
    std::vector<GroupedSnapshot> out;
    for (const Snapshot& s : series) out.push_back(group(s, GroupBy::kStack, nullptr));
    return out;
}

}  // namespace

TEST_CASE("growth leaks over 10 equal slices: steady growth is flagged, a one-time "
          "allocation is not", "[replay]") {
    for (const bool markers : {false, true}) {
        INFO("markers " << markers);
        test::TempDir dir;
        write_growth(dir / "t.hwt", markers);
        ReplayRequest req;
        req.points = {parse_point("end")};
        req.growth_slices = 10;
        const ReplayResult r = replay_trace(dir / "t.hwt", req);
        CHECK(r.growth_by_markers == markers);
        REQUIRE(r.growth.size() == 11);
        CHECK(r.growth[3].time_ns == 3'000'000'000ull);

        const std::vector<GrowthLeak> leaks = growth_leaks(grouped(r.growth));
        REQUIRE(leaks.size() == 2);
        CHECK(leaks[0].key == "stack#1");
        CHECK(leaks[0].rising == 8);
        CHECK(leaks[0].intervals == 10);
        CHECK(leaks[0].first_bytes == 0);
        CHECK(leaks[0].max_bytes == 8000);
        CHECK(leaks[0].last_bytes == 8000);
        CHECK(leaks[0].bytes_per_second == Approx(1000.0).epsilon(1e-12));
        CHECK(leaks[1].key == "stack#3");  // grew in 9 intervals, even though freed at the end
        CHECK(leaks[1].rising == 9);
        CHECK(leaks[1].last_bytes == 0);
        CHECK(leaks[1].bytes_per_second == Approx(100.0).epsilon(1e-12));

        // At exit: s1 and s2 are live, s3 was freed and is not a leak.
        const auto at_end = leaks_at_end(group(r.points[0], GroupBy::kStack, nullptr));
        REQUIRE(at_end.size() == 2);
        CHECK(at_end[0].key == "stack#1");
        CHECK(at_end[0].size == 8000);
        CHECK(at_end[0].count == 8);
        CHECK(at_end[1].key == "stack#2");
        CHECK(at_end[1].size == 5000);
        CHECK(at_end[1].count == 1);
        CHECK(leaks_at_end(group(r.points[0], GroupBy::kStack, nullptr), 1).size() == 1);
    }
}

TEST_CASE("a stricter threshold drops a site growing in 8 of 10 intervals", "[replay]") {
    test::TempDir dir;
    write_growth(dir / "t.hwt", false);
    ReplayRequest req;
    req.growth_slices = 10;
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    const auto leaks = growth_leaks(grouped(r.growth), GrowthOptions{0.85, 2});
    REQUIRE(leaks.size() == 1);
    CHECK(leaks[0].key == "stack#3");
}

TEST_CASE("report data: peak, leaked and allocation counts per site", "[replay]") {
    test::TempDir dir;
    write_growth(dir / "t.hwt", false);
    ReplayRequest req;
    req.points = {parse_point("peak"), parse_point("end")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    const ReportData d = report_data(r.facts, group(r.points[0], GroupBy::kStack, nullptr),
                                     group(r.points[1], GroupBy::kStack, nullptr), 2);
    // Peak: just before the frees at 9.9 s: 5000 + 8000 + 1000 B.
    CHECK(d.facts.peak_bytes == 14000);
    CHECK(d.facts.peak_time_ns == 9'300'000'000ull);
    CHECK(d.facts.allocs == 19);
    CHECK(d.facts.bytes_allocated == 14000);
    CHECK(d.facts.duration_ns == 10'000'000'000ull);
    REQUIRE(d.top_by_peak.size() == 2);
    CHECK(d.top_by_peak[0].key == "stack#1");
    CHECK(d.top_by_peak[0].size == 8000);
    CHECK(d.top_by_peak[1].key == "stack#2");
    REQUIRE(d.top_by_leaked.size() == 2);
    CHECK(d.top_by_leaked[0].size == 8000);
    REQUIRE(d.top_by_allocs.size() == 2);
    CHECK(d.top_by_allocs[0].key == "stack#3");
    CHECK(d.top_by_allocs[0].entry.allocs == 10);
    CHECK(d.top_by_allocs[1].key == "stack#1");
    CHECK(d.top_by_allocs[1].entry.allocs == 8);
}
