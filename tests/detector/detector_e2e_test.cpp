// End to end: programs/leaky.cpp watches its own planted leaks with the real tracer, preloaded
// and linked in. Its live compare_to rows must name the planted sites with their exact bytes and
// blocks, and equal, row for row, the offline diff of its own trace at the snapshots' markers
// (replay_trace + group + compare, what `heapwise diff --from L1 --to L2` prints).
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "analyzer/replay/grouping.hpp"
#include "facts.hpp"
#include "harness.hpp"

using namespace heapwise;
using namespace heapwise::e2e;
namespace hwa = heapwise::analyzer;

namespace {

using Row = std::tuple<std::string, std::uint64_t, std::int64_t, std::uint64_t, std::int64_t>;

std::vector<Row> live_rows(const std::string& out, const std::string& by) {
    std::vector<Row> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("ROW " + by + "\t")) continue;
        std::istringstream f(line.substr(5 + by.size()));
        Row r;
        std::getline(f, std::get<0>(r), '\t');
        f >> std::get<1>(r) >> std::get<2>(r) >> std::get<3>(r) >> std::get<4>(r);
        rows.push_back(r);
    }
    return rows;
}

std::vector<Row> offline_rows(const fs::path& trace, hwa::GroupBy by) {
    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("L1"), hwa::parse_point("L2")};
    const hwa::ReplayResult r = hwa::replay_trace(trace, req);
    hwa::StackSymbols symbols(r);
    const auto rows = hwa::compare(hwa::group(r.points[0], by, &symbols), hwa::group(r.points[1], by, &symbols));
    std::vector<Row> out;
    for (const auto& d : rows) out.emplace_back(d.key, d.size, d.size_diff, d.count, d.count_diff);
    return out;
}

fs::path program(const char* name) { return Paths::get().programs.parent_path() / "detector" / name; }

// The planted sites, with the exact figures between the snapshots L1 and L2.
void check_planted(const Outcome& o, bool started_late) {
    INFO(o.describe());
    REQUIRE(o.exited_with(0));
    const Facts facts(o.out);
    CHECK(facts.num("started_late") == (started_late ? 1u : 0u));
    CHECK(facts.num("estimated") == 0);
    const std::string file = fs::canonical(fs::path(HW_DETECTOR_SOURCE_DIR) / "programs/leaky.cpp").string();
    const auto rows = live_rows(o.out, "lineno");
    REQUIRE(rows.size() >= 3);
    const std::string big = file + ":" + std::to_string(facts.num("line_big"));
    const std::string small = file + ":" + std::to_string(facts.num("line_small"));
    const std::string early = file + ":" + std::to_string(facts.num("line_early"));
    CHECK(rows[0] == Row{big, 3u << 20, 3 << 20, 3, 3});
    CHECK(rows[1] == Row{small, 409600, 409600, 100, 100});
    CHECK(rows[2] == Row{early, 0, -3200, 0, -32});
    for (std::size_t i = 3; i < rows.size(); ++i) {
        CHECK(std::get<2>(rows[i]) == 0);  // nothing else changed between the snapshots
        CHECK(std::get<4>(rows[i]) == 0);
    }
    const auto fn = live_rows(o.out, "function");
    REQUIRE(fn.size() >= 3);
    CHECK(fn[0] == Row{"(anonymous namespace)::leak_big()", 3u << 20, 3 << 20, 3, 3});
    CHECK(fn[1] == Row{"(anonymous namespace)::leak_small()", 409600, 409600, 100, 100});
    CHECK(fn[2] == Row{"(anonymous namespace)::alloc_early()", 0, -3200, 0, -32});
    CHECK(facts.one("TEXT") == big + ": size=3072 KiB (+3072 KiB), count=3 (+3), average=1024 KiB");
    CHECK(o.out.find("heapwise leak report: ") != std::string::npos);
    CHECK(o.out.find("  #1 " + big + " in (anonymous namespace)::leak_big(): +3072 KiB (size 3072 KiB), "
                     "+3 blocks (count 3)\n       g_line_big = __LINE__; g_keep.push_back(new char[1 << 20]);\n") !=
          std::string::npos);
}

// Rows that changed between the snapshots.
std::vector<Row> changed(std::vector<Row> rows) {
    std::erase_if(rows, [](const Row& r) { return std::get<2>(r) == 0 && std::get<4>(r) == 0; });
    return rows;
}

// From the start (HEAPWISE_LIVE=1) every row agrees. Started late, the live view does not know
// blocks allocated before it began: the offline diff also lists those still live, unchanged, so
// only the changed rows must agree (none of this program's early blocks is freed in between).
void check_agrees_offline(const Outcome& o, const fs::path& dir, bool started_late) {
    const auto traces = traces_in(dir);
    REQUIRE(traces.size() == 1);
    for (auto [by, key] : {std::pair{"lineno", hwa::GroupBy::kLineno}, {"function", hwa::GroupBy::kFunction}}) {
        INFO("by " << by);
        const auto live = live_rows(o.out, by);
        const auto offline = offline_rows(traces[0], key);
        if (started_late) {
            CHECK(changed(live) == changed(offline));
            CHECK(live.size() <= offline.size());
        } else {
            CHECK(live == offline);
        }
    }
}

}  // namespace

TEST_CASE("under LD_PRELOAD with live figures from the start: planted sites, same as offline",
          "[detector][e2e]") {
    TempDir dir;
    Command cmd = traced({{program("detector_leaky").string()}}, dir.path());
    cmd.env.emplace_back("HEAPWISE_LIVE", "1");
    const Outcome o = run(cmd);
    check_planted(o, false);
    check_agrees_offline(o, dir.path(), false);
}

TEST_CASE("under LD_PRELOAD, started late by the detector: planted sites, same as offline",
          "[detector][e2e]") {
    TempDir dir;
    const Outcome o = run(traced({{program("detector_leaky").string()}}, dir.path()));
    check_planted(o, true);
    check_agrees_offline(o, dir.path(), true);
}

TEST_CASE("with the tracer linked into the program: planted sites, same as offline", "[detector][e2e]") {
    TempDir dir;
    Command cmd({program("detector_leaky_linked").string()});
    cmd.env.emplace_back("HEAPWISE_OUTPUT", (dir.path() / "%e.%p.hwt").string());
    const Outcome o = run(cmd);
    check_planted(o, true);
    check_agrees_offline(o, dir.path(), true);
}

TEST_CASE("a sampling tracer: figures marked as estimates, weighed as the offline replay weighs them",
          "[detector][e2e]") {
    TempDir dir;
    Command cmd = traced({{program("detector_leaky").string()}}, dir.path());
    cmd.env.emplace_back("HEAPWISE_LIVE", "1");
    cmd.env.emplace_back("HEAPWISE_MODE", "sampled");
    cmd.env.emplace_back("HEAPWISE_SAMPLE_INTERVAL", "4096");
    const Outcome o = run(cmd);
    INFO(o.describe());
    REQUIRE(o.exited_with(0));
    const Facts facts(o.out);
    CHECK(facts.num("estimated") == 1);
    CHECK(o.out.find("\n  estimates: the tracer samples about every 4096 bytes; figures are scaled\n") !=
          std::string::npos);
    // A 1 MiB block is sampled with probability 1 - exp(-256): each counts as itself.
    const std::string file = fs::canonical(fs::path(HW_DETECTOR_SOURCE_DIR) / "programs/leaky.cpp").string();
    const auto rows = live_rows(o.out, "lineno");
    REQUIRE(!rows.empty());
    CHECK(rows[0] == Row{file + ":" + std::to_string(facts.num("line_big")), 3u << 20, 3 << 20, 3, 3});
    check_agrees_offline(o, dir.path(), false);
}

TEST_CASE("without the tracer the detector refuses with one clear error", "[detector][e2e]") {
    const Outcome o = run({{program("detector_leaky").string()}});
    INFO(o.describe());
    CHECK(o.exited_with(3));
    CHECK(o.out == "ERROR no_tracer heapwise::LeakDetector: the heapwise tracer is not recording in this "
                   "process (run it under LD_PRELOAD=libheapwise_preload.so or `heapwise record`, or "
                   "link libheapwise_preload.so into the program)\n");
}

TEST_CASE("bad use under the real tracer: typed errors, the program goes on", "[detector][e2e]") {
    TempDir dir;
    const Outcome o = run(traced({{program("detector_leaky").string(), "bad-use"}}, dir.path()));
    INFO(o.describe());
    REQUIRE(o.exited_with(0));
    const Facts facts(o.out);
    CHECK(facts.one("bad-same").starts_with("same_snapshot heapwise::LeakDetector: snapshot 'bad-a' compared with itself"));
    CHECK(facts.one("bad-foreign").starts_with("foreign_snapshot "));
    CHECK(facts.one("bad-empty").starts_with("empty_snapshot "));
    CHECK(facts.one("bad-filter").starts_with("bad_argument "));
    CHECK(facts.one("bad-fork-compare").starts_with("other_process heapwise::LeakDetector: snapshot 'bad-a' was taken in process "));
    CHECK(facts.one("bad-fork-take").starts_with("other_process heapwise::LeakDetector: this detector was created in process "));
    CHECK(facts.num("child_exit") == 0);
}

TEST_CASE("the C path: planted site, tracemalloc text, statuses and kinds", "[detector][e2e]") {
    const std::string prog = program("detector_leaky_c").string();
    const Outcome untraced = run({{prog}});
    INFO(untraced.describe());
    CHECK(untraced.exited_with(3));
    CHECK(untraced.out.starts_with("create HEAPWISE_ESTATE 1 heapwise_detector_create: heapwise::LeakDetector: "
                                   "the heapwise tracer is not recording in this process"));

    TempDir dir;
    Command cmd = traced({{prog}}, dir.path());
    cmd.env.emplace_back("HEAPWISE_LIVE", "1");
    const Outcome o = run(cmd);
    INFO(o.describe());
    REQUIRE(o.exited_with(0));
    const Facts facts(o.out);
    const std::string file = fs::canonical(fs::path(HW_DETECTOR_SOURCE_DIR) / "programs/leaky_c.c").string();
    const std::string site = file + ":" + std::to_string(facts.num("line"));
    const auto rows = live_rows(o.out, "lineno");
    REQUIRE(!rows.empty());
    CHECK(rows[0] == Row{site, 64000, 64000, 64, 64});
    CHECK(live_rows(o.out, "function") == std::vector<Row>{Row{"leak_c", 64000, 64000, 64, 64}});
    const std::string text = site + ": size=62.5 KiB (+62.5 KiB), count=64 (+64), average=1000 B";
    CHECK(facts.one("TEXT") == text);
    CHECK(facts.one("tiny") == "HEAPWISE_TOO_SMALL");
    CHECK(facts.num("needed") == text.size());
    CHECK(facts.one("bad-same") == "HEAPWISE_EINVAL 5 null");
    CHECK(facts.one("bad-by") == "HEAPWISE_EINVAL 7");
    CHECK(facts.one("bad-null") == "HEAPWISE_EINVAL");
    CHECK(o.out.find("  #1 " + site + " in leak_c: +62.5 KiB (size 62.5 KiB), +64 blocks (count 64)\n"
                     "       g_line = __LINE__; g_keep[i] = malloc(1000);\n") != std::string::npos);

    const auto traces = traces_in(dir.path());
    REQUIRE(traces.size() == 1);
    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("C1"), hwa::parse_point("C2")};
    const hwa::ReplayResult r = hwa::replay_trace(traces[0], req);
    hwa::StackSymbols symbols(r);
    const auto off = hwa::compare(hwa::group(r.points[0], hwa::GroupBy::kLineno, &symbols),
                                  hwa::group(r.points[1], hwa::GroupBy::kLineno, &symbols));
    std::vector<Row> offline;
    for (const auto& d : off) offline.emplace_back(d.key, d.size, d.size_diff, d.count, d.count_diff);
    CHECK(rows == offline);
}
