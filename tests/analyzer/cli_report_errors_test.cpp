// Bad input to report/diff/leaks: one clear stderr line and exit 2, nothing on stdout; damaged
// traces: the report of the readable blocks, one line with the byte offset, exit 1; modules
// that cannot be used: one warning each, and module+offset instead of a name.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli_report_support.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using test::has_line;

TEST_CASE("bad input is one line and exit 2", "[cli][report]") {
    struct Case {
        std::vector<std::string> args;
        std::string err;
    };
    const std::vector<Case> cases = {
        {{"diff", "scraper.hwt", "--from", "nope"},
         "heapwise: unknown marker 'nope': the trace has markers batch-1, batch-2, batch-3, batch-4\n"},
        {{"diff", "scraper.hwt", "--min-growth", "1XB"},
         "heapwise: bad size '1XB': unknown unit 'XB' (B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, all powers of 1024)\n"},
        {{"leaks", "scraper.hwt", "--fail-on-growth", "lots"},
         "heapwise: bad size 'lots': expected bytes or a number with a unit, e.g. 4096, 512KiB, 10MB\n"},
        {{"report", "scraper.hwt", "--by", "colour"},
         "heapwise: unknown grouping key 'colour': expected lineno, function, file, module, traceback or stack\n"},
        {{"report", "scraper.hwt", "--filter", "colour:red"},
         "heapwise: bad filter 'colour:red': expected module:PATTERN, file:PATTERN or function:PATTERN\n"},
        {{"diff", "scraper.hwt", "--to", "90x"},
         "heapwise: bad time '90x': unknown unit 'x' (ns, us, ms, s, m or min, h)\n"},
        {{"diff", "scraper.hwt", "--at", "end"},
         "heapwise: --at needs two traces (heapwise diff OLD NEW --at POINT); with one trace use --from and --to\n"},
        {{"report", "missing.hwt"}, "heapwise: missing.hwt: cannot open: No such file or directory\n"},
        {{"leaks", "scraper.c"}, "heapwise: scraper.c: not a heapwise trace: no HEAPWISE magic at byte 0\n"},
        {{"diff", "scraper.hwt", "scraper.c"}, "heapwise: scraper.c: not a heapwise trace: no HEAPWISE magic at byte 0\n"},
        {{"report", "scraper.hwt", "--module-dir", "nowhere"},
         "heapwise: bad --module-dir 'nowhere': not a directory\n"},
    };
    for (const Case& c : cases) {
        const auto r = test::heapwise_in_data(c.args);
        INFO(c.args.front() << " " << c.args.back());
        CHECK(r.exited(2));
        CHECK(r.err == c.err);
        CHECK(r.out.empty());
    }
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"report"}, {"diff", "a", "b", "c"}, {"report", "scraper.hwt", "--top", "x"},
             {"leaks", "scraper.hwt", "--slices", "1"}, {"report", "scraper.hwt", "--bogus"}}) {
        const auto r = test::heapwise_in_data(args);
        INFO(args.back());
        CHECK(r.exited(2));
        CHECK(r.err_lines().size() == 1);
        CHECK(r.err.rfind("heapwise: ", 0) == 0);
    }
}

TEST_CASE("a damaged trace is reported up to its last good block, exit 1", "[cli][report]") {
    test::TempDir dir;
    const test::Bytes whole = test::read_file(std::filesystem::path(test::data_dir()) / "scraper-80.hwt");
    // The trace is two blocks: [32, 974) and [974, end). Cut the second one short.
    test::write_file(dir / "cut.hwt", test::Bytes(whole.begin(), whole.begin() + 1500));
    const auto r = test::run({test::heapwise_exe(), "leaks", (dir / "cut.hwt").string(), "--json"});
    CHECK(r.exited(1));
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["trace"]["damage"]["count"] == 1);
    CHECK(j["trace"]["damage"]["first_offset"] == 974);
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err == "heapwise: " + (dir / "cut.hwt").string() +
                       ": truncated at byte 1500: the block at byte 974 needs 863 payload bytes, the "
                       "file holds 502; no valid block after it; the report covers the readable blocks\n");

    // A corrupt first block: the second is still read.
    test::Bytes flipped = whole;
    flipped[900] ^= 0xff;
    test::write_file(dir / "flip.hwt", flipped);
    const auto f = test::run({test::heapwise_exe(), "report", (dir / "flip.hwt").string()});
    CHECK(f.exited(1));
    CHECK(has_line(f.out, "damaged       1 place skipped, the first at byte 32: figures are from the "
                          "readable blocks only"));
    CHECK(f.err.find("corrupt block at byte 32: payload crc mismatch") != std::string::npos);
}

TEST_CASE("a module file that does not match is named once and shown as module+offset", "[cli][report]") {
    test::TempDir dir;
    // A file called scraper that is not the traced binary: its build-id differs.
    std::filesystem::copy_file("/bin/true", dir / "scraper");
    test::RunOptions o;
    o.cwd = test::data_dir();
    const auto r = test::run({test::heapwise_exe(), "diff", "scraper.hwt", "scraper-80.hwt", "--by",
                              "function", "--module-dir", dir.path().string(), "--json"}, o);
    CHECK(r.exited(0));
    std::size_t about_scraper = 0;
    for (const auto& line : r.err_lines()) {
        if (line.find("/scraper") != std::string::npos) {
            ++about_scraper;
            CHECK(line.rfind("heapwise: warning: " + (dir / "scraper").string() + ": ", 0) == 0);
        }
    }
    CHECK(about_scraper == 1);  // both traces use the file: one warning
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(!j["rows"].empty());
    for (const auto& row : j["rows"]) {
        CHECK(row["key"].get<std::string>().rfind("scraper+0x", 0) == 0);
        CHECK(row["site"]["function"] == "");
    }
}
