// `heapwise timeline` as a real process (suite 'unit', tag [timeline][cli]): default output
// files beside the trace, CSV on stdout, --points, and bad input (unwritable output, not a trace,
// bad --points) as one error line, exit 2 and no file left behind. HW_TIMELINE_CLI is the
// heapwise command the meson test names.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "run_process.hpp"
#include "trace_bytes.hpp"
#include "trace_writer.hpp"
#include "traced_run.hpp"

using namespace heapwise;
using test::kMs;

namespace {

void write_trace(const std::filesystem::path& path) {
    test::TraceWriter w(path);
    w.stack(1, {0x1000});
    w.alloc(1 * kMs, 0xa0, 300, 1);
    w.enc().rss(2 * kMs, 1 << 20);
    w.marker(2 * kMs, "half");
    w.flush();  // two blocks, so a cut file still has a good one
    w.alloc(3 * kMs, 0xb0, 700, 1);
    w.free(4 * kMs, 0xa0);
    w.end(5 * kMs);
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> files_in(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

constexpr const char* kCsv =
    "time_s,heap_bytes,rss_bytes\n"
    "0.000000000,0,\n"
    "0.001000000,300,\n"
    "0.002000000,300,1048576\n"
    "0.003000000,1000,1048576\n"
    "0.004000000,700,1048576\n"
    "0.005000000,700,1048576\n";

}  // namespace

TEST_CASE("timeline writes CSV and SVG beside the trace by default", "[timeline][cli]") {
    const std::string cli = test::env_path("HW_TIMELINE_CLI");
    test::TempDir dir;
    write_trace(dir / "run.hwt");
    const auto r = test::run({cli, "timeline", (dir / "run.hwt").string()});
    INFO(r.err);
    REQUIRE(r.exited(0));
    CHECK(r.err.empty());
    CHECK(files_in(dir.path()) == std::vector<std::string>{"run.hwt", "run.timeline.csv", "run.timeline.svg"});
    CHECK(slurp(dir / "run.timeline.csv") == kCsv);
    const std::string svg = slurp(dir / "run.timeline.svg");
    CHECK(svg.starts_with("<?xml"));
    CHECK(svg.find("peak 1000 B at 3.00 ms") != std::string::npos);
    CHECK(r.out.find("peak 1,000 bytes (1000 B) at 0.003000000 s; live at end 700 bytes (700 B)\n") !=
          std::string::npos);
    CHECK(r.out.find("wrote " + (dir / "run.timeline.svg").string() + "\n") != std::string::npos);
}

TEST_CASE("timeline --csv - prints the CSV alone on stdout", "[timeline][cli]") {
    const std::string cli = test::env_path("HW_TIMELINE_CLI");
    test::TempDir dir;
    write_trace(dir / "run.hwt");
    const auto r = test::run({cli, "timeline", (dir / "run.hwt").string(), "--csv", "-", "--points", "4"});
    REQUIRE(r.exited(0));
    // 4 points: start, the two largest buckets' maxima, end.
    CHECK(r.out == "time_s,heap_bytes,rss_bytes\n"
                   "0.000000000,0,\n"
                   "0.001000000,300,\n"
                   "0.002000000,300,1048576\n"
                   "0.003000000,1000,1048576\n"
                   "0.005000000,700,1048576\n");
    CHECK(r.err.find("peak 1,000 bytes") != std::string::npos);  // the summary stays off stdout
    CHECK(files_in(dir.path()) == std::vector<std::string>{"run.hwt"});

    const auto svg = test::run({cli, "timeline", (dir / "run.hwt").string(), "--svg", (dir / "p.svg").string()});
    REQUIRE(svg.exited(0));
    CHECK(files_in(dir.path()) == std::vector<std::string>{"p.svg", "run.hwt"});
}

TEST_CASE("timeline: bad input is one line, exit 2, and no file left", "[timeline][cli]") {
    const std::string cli = test::env_path("HW_TIMELINE_CLI");
    test::TempDir dir;
    write_trace(dir / "run.hwt");
    const std::string trace = (dir / "run.hwt").string();

    auto r = test::run({cli, "timeline", trace, "--csv", (dir / "missing" / "t.csv").string()});
    CHECK(r.exited(2));
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err_lines()[0] == "heapwise: cannot write " + (dir / "missing" / "t.csv").string() +
                                  ": No such file or directory");

    std::filesystem::create_directory(dir / "adir");
    r = test::run({cli, "timeline", trace, "--csv", (dir / "ok.csv").string(), "--svg", (dir / "adir").string()});
    CHECK(r.exited(2));
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err_lines()[0] == "heapwise: cannot write " + (dir / "adir").string() + ": is a directory");

    test::write_file(dir / "junk.hwt", test::Bytes{'n', 'o', 't', ' ', 'a', ' ', 't', 'r', 'a', 'c', 'e'});
    r = test::run({cli, "timeline", (dir / "junk.hwt").string()});
    CHECK(r.exited(2));
    CHECK(r.err_lines().size() == 1);

    r = test::run({cli, "timeline", trace, "--points", "3"});
    CHECK(r.exited(2));
    CHECK(r.err_lines().size() == 1);
    r = test::run({cli, "timeline", trace, "--points", "many"});
    CHECK(r.exited(2));
    CHECK(r.err_lines().size() == 1);
    r = test::run({cli, "timeline", trace, "--csv", "-", "--svg", "-"});
    CHECK(r.exited(2));
    CHECK(r.err_lines().size() == 1);
    // Nothing written by any failed run, not even a temp file.
    CHECK(files_in(dir.path()) == std::vector<std::string>{"adir", "junk.hwt", "run.hwt"});
    CHECK(files_in(dir / "adir").empty());
}

TEST_CASE("timeline of a damaged trace writes what was good and exits 1", "[timeline][cli]") {
    const std::string cli = test::env_path("HW_TIMELINE_CLI");
    test::TempDir dir;
    write_trace(dir / "run.hwt");
    auto bytes = test::read_file(dir / "run.hwt");
    bytes.resize(bytes.size() - 3);  // cut the last block short
    test::write_file(dir / "cut.hwt", bytes);
    const auto r = test::run({cli, "timeline", (dir / "cut.hwt").string(), "--csv", "-"});
    CHECK(r.exited(1));
    // The first block: up to the marker at 2 ms, the last time read.
    CHECK(r.out == "time_s,heap_bytes,rss_bytes\n"
                   "0.000000000,0,\n"
                   "0.001000000,300,\n"
                   "0.002000000,300,1048576\n"
                   "0.002000000,300,1048576\n");
    REQUIRE(r.err_lines().size() >= 1);
    CHECK(r.err_lines().back().find("cut.hwt") != std::string::npos);
}
