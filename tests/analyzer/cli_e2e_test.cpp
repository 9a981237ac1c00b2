// `heapwise record` with the real shim (suite 'e2e'): the line it prints names the trace the
// program wrote, with the same event count `heapwise stats` finds; exit status and signal death
// survive tracing; a script that execs another program is reported by its last image, with the
// script's own trace counted as one more; the traces it names read cleanly.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "run_process.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;

namespace {

test::RunOptions in_dir(const test::TempDir& dir) {
    test::RunOptions o;
    o.cwd = dir.path();
    o.unset = {"HEAPWISE_PRELOAD", "HEAPWISE_OUTPUT", "LD_PRELOAD"};
    o.env["HEAPWISE_PRELOAD"] = test::env_or_fail("HEAPWISE_SHIM");
    return o;
}

struct Line {
    std::string path;
    std::uint64_t events = 0;
    std::string rest;
};

// Parses "heapwise: trace written to PATH (N events, SIZE)REST".
Line parse_line(const std::string& line) {
    static const std::regex re(R"(heapwise: trace written to (\S+) \(([0-9,]+) events, [0-9.]+ [KMG]?i?B\)(.*))");
    std::smatch m;
    REQUIRE(std::regex_match(line, m, re));
    std::string digits = m[2].str();
    digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
    return {m[1].str(), std::stoull(digits), m[3].str()};
}

nlohmann::json stats(const std::filesystem::path& path) {
    const auto r = test::run({test::heapwise_exe(), "stats", "--json", path.string()});
    INFO(r.err);
    REQUIRE(r.exited(0));
    return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("record with the real shim names the trace and keeps the exit status", "[cli][e2e]") {
    test::TempDir dir;
    const auto r = test::run({test::heapwise_exe(), "record", "--", "/bin/sh", "-c", "echo hi; exit 3"}, in_dir(dir));
    CHECK(r.exited(3));
    CHECK(r.out == "hi\n");
    REQUIRE(r.err_lines().size() == 1);
    const Line line = parse_line(r.err_lines()[0]);
    CHECK(line.rest.empty());
    const auto path = dir.path() / line.path;
    REQUIRE(std::filesystem::exists(path));
    const auto s = stats(path);
    CHECK(s["events"] == line.events);
    CHECK(s["events"].get<std::uint64_t>() > 0);
    CHECK(s["process"]["exe"] == "/usr/bin/dash");
    CHECK(s["end"]["reason"] == "exit");
    CHECK(s["inconsistencies"]["free_of_unknown"] == 0);
    CHECK(s["inconsistencies"]["alloc_of_live"] == 0);
}

TEST_CASE("record with the real shim dies by the child's signal, trace still readable", "[cli][e2e]") {
    test::TempDir dir;
    const auto r = test::run({test::heapwise_exe(), "record", "--", "/bin/sh", "-c", "kill -SEGV $$"}, in_dir(dir));
    CHECK(r.signaled(SIGSEGV));
    REQUIRE(r.err_lines().size() == 1);
    const Line line = parse_line(r.err_lines()[0]);
    const auto s = stats(dir.path() / line.path);
    CHECK(s["events"] == line.events);
}

TEST_CASE("a script that execs a program: the last image is the main trace", "[cli][e2e]") {
    test::TempDir dir;
    const std::string script = "#!/bin/sh\nexec /bin/bash -c 'exit 5' heapwise-inner\n";
    test::write_file(dir / "wrap.sh", test::Bytes(script.begin(), script.end()));
    std::filesystem::permissions(dir / "wrap.sh", std::filesystem::perms::owner_all);
    const auto r = test::run({test::heapwise_exe(), "record", "-o", "t.%p.%e.hwt", "--", "./wrap.sh"}, in_dir(dir));
    CHECK(r.exited(5));
    REQUIRE(r.err_lines().size() == 1);
    const Line line = parse_line(r.err_lines()[0]);
    CHECK(line.rest.rfind("; 1 more from this run", 0) == 0);
    const auto main = stats(dir.path() / line.path);
    CHECK(main["process"]["args"] == nlohmann::json::array({"/bin/bash", "-c", "exit 5", "heapwise-inner"}));
    CHECK(main["end"]["reason"] == "exit");
    // The script's own image ended by exec, and its trace is the one more.
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        if (e.path().extension() == ".hwt") {
            ++files;
            if (e.path().filename() != std::filesystem::path(line.path).filename())
                CHECK(stats(e.path())["end"]["reason"] == "exec");
        }
    CHECK(files == 2);
}
