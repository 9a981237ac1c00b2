// End to end, C++ (suite 'e2e', tags [leaks][e2e]): leak_containers.cpp runs under the real shim;
// a std::vector and a std::map that grow across four markers and are freed when main returns
// must be growth leaks but not leaks at exit; new[] leaking one block per phase is both; a leaked
// object is a leak at exit only; a temporary std::string is neither. Sites by file:line and
// function (std:: and operator new frames folded), sizes exact.
#include <catch2/catch.hpp>

#include "analyzer/replay/leaks.hpp"
#include "trace_bytes.hpp"
#include "traced_run.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;

namespace {

constexpr const char* kFile = "leak_containers.cpp";

std::uint64_t map_node_bytes(const std::string& out) {
    const auto at = out.find("map_node_bytes ");
    REQUIRE(at != std::string::npos);
    return std::stoull(out.substr(at + 15));
}

template <class Rows>
auto find_at(const Rows& rows, std::uint32_t line) -> decltype(&rows[0]) {
    for (const auto& r : rows) {
        if (test::site_at(r.entry.site, kFile, line)) return &r;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("C++: containers that grow until exit are growth leaks, not leaks at exit", "[leaks][e2e]") {
    const auto lines = test::leak_site_lines(test::env_path("HW_LEAKS_CPP_SOURCE"));
    REQUIRE(lines.size() == 5);
    test::TempDir dir;
    const test::TracedRun run = test::run_traced(test::env_path("HW_LEAKS_CPP_PROGRAM"), dir.path());
    const std::uint64_t node = map_node_bytes(run.out);

    ReplayRequest req;
    req.points = {parse_point("end"), parse_point("phase-2"), parse_point("phase-3")};
    req.growth_slices = 10;
    const ReplayResult r = replay_trace(run.trace, req);
    REQUIRE(r.summary.clean());
    CHECK(r.facts.free_of_unknown == 0);
    StackSymbols symbols(r);

    SECTION("leaks at exit: the new[] blocks and the leaked object, nothing else") {
        const auto rows = leaks_at_end(group(r.points[0], GroupBy::kLineno, &symbols));
        std::string all;
        for (const DiffRow& row : rows) all += row.key + " " + std::to_string(row.size) + "\n";
        INFO("leak rows:\n" << all);
        REQUIRE(rows.size() == 2);
        CHECK(test::site_at(rows[0].entry.site, kFile, lines.at("array")));
        CHECK(rows[0].entry.site.function == "(anonymous namespace)::leak_array(int)");
        CHECK(rows[0].size == 4 * 1234);
        CHECK(rows[0].count == 4);
        CHECK(test::site_at(rows[1].entry.site, kFile, lines.at("object")));
        CHECK(rows[1].entry.site.function == "(anonymous namespace)::leak_object()");
        CHECK(rows[1].size == 400);  // sizeof(Session)
        CHECK(rows[1].count == 1);
        CHECK(r.facts.end_bytes == 4 * 1234 + 400);

        const GroupedSnapshot all_sites = group(r.points[0], GroupBy::kLineno, &symbols);
        const GroupEntry* str = nullptr;
        for (const auto& [key, e] : all_sites.groups) {
            if (test::site_at(e.site, kFile, lines.at("string"))) str = &e;
        }
        REQUIRE(str != nullptr);
        CHECK(str->allocs == 4);
        CHECK(str->temporary == 4);  // freed by the thread's very next heap event
        CHECK(str->bytes == 0);
    }

    SECTION("growth leaks: the vector, the map and the new[] site") {
        REQUIRE(r.growth_by_markers);
        REQUIRE(r.growth.size() == 6);
        std::vector<GroupedSnapshot> series;
        for (const Snapshot& s : r.growth) series.push_back(group(s, GroupBy::kLineno, &symbols));
        const auto leaks = growth_leaks(series);
        std::string all;
        for (const GrowthLeak& g : leaks) all += g.key + "\n";
        INFO("growth leaks:\n" << all);
        REQUIRE(leaks.size() == 3);
        const GrowthLeak* vec = find_at(leaks, lines.at("vector"));
        const GrowthLeak* map = find_at(leaks, lines.at("map"));
        const GrowthLeak* arr = find_at(leaks, lines.at("array"));
        REQUIRE(vec != nullptr);
        REQUIRE(map != nullptr);
        REQUIRE(arr != nullptr);
        CHECK(vec->rising == 4);
        CHECK(vec->max_bytes == 8192 * 8);  // capacity 8192 of 8-byte elements at phase-4
        CHECK(vec->last_bytes == 0);        // freed when main returned
        CHECK(map->rising == 4);
        CHECK(map->max_bytes == 400 * node);
        CHECK(map->last_bytes == 0);
        CHECK(arr->rising == 4);
        CHECK(arr->last_bytes == 4 * 1234);
        CHECK(find_at(leaks, lines.at("object")) == nullptr);  // rose once, then flat
    }

    SECTION("diff phase-2 -> phase-3: one vector reallocation, 100 map nodes, one new[]") {
        const auto rows = compare(group(r.points[1], GroupBy::kLineno, &symbols),
                                  group(r.points[2], GroupBy::kLineno, &symbols));
        const DiffRow* vec = find_at(rows, lines.at("vector"));
        const DiffRow* map = find_at(rows, lines.at("map"));
        const DiffRow* arr = find_at(rows, lines.at("array"));
        REQUIRE(vec != nullptr);
        REQUIRE(map != nullptr);
        REQUIRE(arr != nullptr);
        CHECK(vec->size == 4096 * 8);
        CHECK(vec->size_diff == 2048 * 8);
        CHECK(vec->count == 1);
        CHECK(vec->count_diff == 0);
        CHECK(map->size == 300 * node);
        CHECK(map->size_diff == static_cast<std::int64_t>(100 * node));
        CHECK(map->count_diff == 100);
        CHECK(arr->size_diff == 1234);
        CHECK(arr->count_diff == 1);
        CHECK(&rows[0] == vec);  // largest change first
        for (const DiffRow& row : rows) {
            if (&row == vec || &row == map || &row == arr) continue;
            INFO(row.key);
            CHECK(row.size_diff == 0);
            CHECK(row.count_diff == 0);
        }
    }
}
