// End to end, C (suite 'e2e', tags [leaks][e2e]): leak_sites.c runs under the real shim and the
// analyzer library (replay_trace, group, leaks_at_end, growth_leaks, compare) must name exactly
// its planted sites, by function and file:line, with their exact bytes and blocks; the site that
// frees everything and the one-time flat allocation must not be called leaks; the diff between
// two markers must be exactly one growth step. The timeline of the same trace is checked too.
#include <catch2/catch.hpp>

#include "analyzer/replay/leaks.hpp"
#include "analyzer/timeline/timeline.hpp"
#include "trace_bytes.hpp"
#include "traced_run.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;

namespace {

constexpr std::uint64_t kFixed = 5 * 1000;
constexpr std::uint64_t kCalloc = 2 * 3 * 259;
constexpr std::uint64_t kRealloc = 3000;
constexpr std::uint64_t kGrowStep = 10 * 2048;
constexpr std::uint64_t kGrow = 4 * kGrowStep;
constexpr std::uint64_t kFlat = 65536;
constexpr std::uint64_t kFreed = 50 * 512;

struct Expected {
    const char* site;
    const char* function;
    std::uint64_t bytes;
    std::uint64_t count;
};

const DiffRow* row_at(const std::vector<DiffRow>& rows, std::uint32_t line) {
    for (const DiffRow& r : rows) {
        if (test::site_at(r.entry.site, "leak_sites.c", line)) return &r;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("C: leaks, growth and marker diffs name exactly the planted sites", "[leaks][e2e]") {
    const auto lines = test::leak_site_lines(test::env_path("HW_LEAKS_C_SOURCE"));
    REQUIRE(lines.size() == 6);
    test::TempDir dir;
    const test::TracedRun run = test::run_traced(test::env_path("HW_LEAKS_C_PROGRAM"), dir.path());

    ReplayRequest req;
    req.points = {parse_point("end"), parse_point("snap-2"), parse_point("snap-3"), parse_point("start")};
    req.growth_slices = 10;
    const ReplayResult r = replay_trace(run.trace, req);
    REQUIRE(r.summary.clean());
    CHECK(r.facts.free_of_unknown == 0);
    CHECK(r.facts.alloc_of_live == 0);
    StackSymbols symbols(r);

    SECTION("leaks at exit: exactly the four leaking sites, largest first") {
        const std::vector<Expected> expected = {{"grow", "grow_step", kGrow, 40},
                                                {"fixed", "leak_fixed", kFixed, 5},
                                                {"realloc", "leak_realloc", kRealloc, 1},
                                                {"calloc", "leak_calloc", kCalloc, 2}};
        const auto rows = leaks_at_end(group(r.points[0], GroupBy::kLineno, &symbols));
        std::string all;
        for (const DiffRow& row : rows) all += row.key + " " + std::to_string(row.size) + "\n";
        INFO("leak rows:\n" << all);
        REQUIRE(rows.size() == expected.size());  // no allocation of the program's but these
        for (std::size_t i = 0; i < expected.size(); ++i) {
            INFO("site " << expected[i].site);
            CHECK(test::site_at(rows[i].entry.site, "leak_sites.c", lines.at(expected[i].site)));
            CHECK(rows[i].entry.site.function == expected[i].function);
            CHECK(rows[i].size == expected[i].bytes);
            CHECK(rows[i].count == expected[i].count);
        }
        CHECK(r.facts.end_bytes == kGrow + kFixed + kRealloc + kCalloc);
        CHECK(row_at(rows, lines.at("freed")) == nullptr);
        CHECK(row_at(rows, lines.at("flat")) == nullptr);

        // By function, the same sites and sizes; the freeing site allocated and freed all of it.
        const GroupedSnapshot by_fn = group(r.points[0], GroupBy::kFunction, &symbols);
        CHECK(by_fn.groups.at("leak_fixed").bytes == kFixed);
        CHECK(by_fn.groups.at("frees_everything").bytes == 0);
        CHECK(by_fn.groups.at("frees_everything").allocs == 5 * 50);
        CHECK(by_fn.groups.at("one_time").bytes == 0);
        CHECK(by_fn.groups.at("one_time").allocs == 1);
        CHECK(by_fn.groups.at("leak_realloc").allocs == 2);  // the malloc and the realloc's block
    }

    SECTION("growth leaks: the growing site only, not the flat or fixed allocations") {
        REQUIRE(r.growth_by_markers);
        REQUIRE(r.growth.size() == 6);  // start, snap-1..snap-4, end
        std::vector<GroupedSnapshot> series;
        for (const Snapshot& s : r.growth) series.push_back(group(s, GroupBy::kLineno, &symbols));
        const auto leaks = growth_leaks(series);
        REQUIRE(leaks.size() == 1);
        CHECK(test::site_at(leaks[0].entry.site, "leak_sites.c", lines.at("grow")));
        CHECK(leaks[0].rising == 4);
        CHECK(leaks[0].intervals == 5);
        CHECK(leaks[0].first_bytes == 0);
        CHECK(leaks[0].max_bytes == kGrow);
        CHECK(leaks[0].last_bytes == kGrow);
        CHECK(leaks[0].bytes_per_second > 0);
    }

    SECTION("diff between two markers is exactly one growth step") {
        const GroupedSnapshot snap2 = group(r.points[1], GroupBy::kLineno, &symbols);
        const GroupedSnapshot snap3 = group(r.points[2], GroupBy::kLineno, &symbols);
        const auto rows = compare(snap2, snap3);
        REQUIRE(!rows.empty());
        CHECK(test::site_at(rows[0].entry.site, "leak_sites.c", lines.at("grow")));
        CHECK(rows[0].size == 3 * kGrowStep);
        CHECK(rows[0].size_diff == static_cast<std::int64_t>(kGrowStep));
        CHECK(rows[0].count == 30);
        CHECK(rows[0].count_diff == 10);
        for (std::size_t i = 1; i < rows.size(); ++i) {
            INFO(rows[i].key);
            CHECK(rows[i].size_diff == 0);
            CHECK(rows[i].count_diff == 0);
        }
        // From the start: every site live at snap-2, with its size as the diff.
        const auto from_start = compare(group(r.points[3], GroupBy::kLineno, &symbols), snap2);
        const DiffRow* flat = row_at(from_start, lines.at("flat"));
        REQUIRE(flat != nullptr);
        CHECK(flat->size_diff == static_cast<std::int64_t>(kFlat));
        CHECK(row_at(from_start, lines.at("freed")) == nullptr);  // nothing live, no change
        const auto top = compare(snap2, snap3, DiffOptions{1, 1});
        REQUIRE(top.size() == 1);
        CHECK(top[0].size_diff == static_cast<std::int64_t>(kGrowStep));
    }

    SECTION("the timeline of the same trace: exact peak, end and markers") {
        const Timeline t = build_timeline(run.trace);
        // The peak is the last frees_everything() before its frees: everything else live with it.
        CHECK(t.peak_bytes == kFlat + kFixed + kRealloc + kGrow + kFreed);
        CHECK(t.peak_bytes == r.facts.peak_bytes);
        CHECK(t.peak_time_ns == r.facts.peak_time_ns);
        CHECK(t.end_bytes == kGrow + kFixed + kRealloc + kCalloc);
        REQUIRE(t.markers.size() == 4);
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(t.markers[i].label == "snap-" + std::to_string(i + 1));
            CHECK(t.markers[i].time_ns == r.facts.markers[i].time_ns);
        }
        CHECK(t.heap_events == r.facts.allocs + r.facts.frees);
        CHECK(t.rss_samples == r.facts.rss.size());
    }
}
