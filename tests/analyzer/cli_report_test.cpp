// `heapwise report` run as a real process on the real golden traces (tests/data/README.md says
// what scraper does, so each figure below follows from the program): exact figures in JSON,
// tracemalloc-style rows with source lines in text, sampled and lossy traces saying so.
#include <catch2/catch.hpp>

#include "cli_report_support.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using test::has_line;
using test::row_with_key;
using K = format::RecordKind;

TEST_CASE("report gives the run's figures and top sites", "[cli][report]") {
    const auto j = test::heapwise_json({"report", "scraper.hwt"});
    CHECK(j["schema"] == "heapwise-report");
    CHECK(j["version"] == 1);
    CHECK(j["command"] == "report");
    CHECK(j["by"] == "lineno");
    CHECK(j["trace"]["mode"] == "lossless");
    CHECK(j["trace"]["estimated"] == false);
    CHECK(j["trace"]["lost"]["events"] == 0);
    CHECK(j["trace"]["damage"]["count"] == 0);
    // 1 config + 40 pages + 40 records + 10 headers; every page buffer is freed at once.
    CHECK(j["allocations"]["count"] == 91);
    CHECK(j["allocations"]["temporary"] == 40);
    CHECK(j["allocations"]["bytes"] == 8192 + (40 * 1024 + 40 * 41 / 2) + 40 * 208 + 10 * 300);
    CHECK(j["frees"] == 80);
    CHECK(j["end"]["bytes"] == 8192 + 10 * 300);
    CHECK(j["end"]["count"] == 11);
    // The peak: page 40's buffer is live with 39 records and 9 headers.
    CHECK(j["peak"]["bytes"] == 8192 + 39 * 208 + 9 * 300 + 1064);
    CHECK(j["peak"]["count"] == 50);
    CHECK(j["markers"] == 4);
    CHECK(j["rss"]["samples"] == 4);

    const auto& leaked = j["top_by_leaked"];
    REQUIRE(leaked.size() == 2);
    CHECK(leaked[0]["key"] == "scraper.c:24");
    CHECK(leaked[0]["size"] == 8192);
    CHECK(leaked[0]["source"] == "g_config = malloc(8192);");
    CHECK(leaked[0]["site"]["function"] == "load_config");
    CHECK(leaked[1]["key"] == "scraper.c:44");
    CHECK(leaked[1]["count"] == 10);
    const auto& by_allocs = j["top_by_allocs"];
    REQUIRE(by_allocs.size() == 4);
    CHECK(by_allocs[0]["key"] == "scraper.c:29");
    CHECK(by_allocs[0]["allocs"] == 40);
    CHECK(by_allocs[0]["temporary"] == 40);
    CHECK(row_with_key(j["top_by_peak"], "scraper.c:36")["size"] == 39 * 208);

    const auto text = test::heapwise_in_data({"report", "scraper.hwt", "--top", "2"});
    CHECK(text.exited(0));
    CHECK(text.err.empty());
    CHECK(has_line(text.out, "allocations   91 (40 temporary, 44.0%), 59.9 KiB allocated in total"));
    CHECK(has_line(text.out, "leaked        10.9 KiB in 11 blocks (live at end)"));
    CHECK(has_line(text.out, "Top 2 sites by leaked bytes (by lineno):"));
    CHECK(text.out.find("scraper.c:44: size=3000 B, count=10, average=300 B\n"
                        "    char* header = malloc(300);\n") != std::string::npos);
    CHECK(text.out.find("\x1b[") == std::string::npos);
}

TEST_CASE("report of a sampled trace says its figures are estimates", "[cli][report]") {
    const auto j = test::heapwise_json({"report", "scraper-sampled.hwt", "--by", "function"});
    CHECK(j["trace"]["mode"] == "sampled");
    CHECK(j["trace"]["estimated"] == true);
    CHECK(j["trace"]["sample_interval"] == 2048);
    const auto text = test::heapwise_in_data({"report", "scraper-sampled.hwt"});
    CHECK(has_line(text.out, "mode          sampled, one sample per 2048 B on average: byte and "
                             "count figures are estimates"));
}

TEST_CASE("report of a lossy trace says how many events were dropped", "[cli][report]") {
    test::RecordWriter w;
    w.kind(K::kProcessInfo).var(77).var(1).var(1'700'000'000'000'000'000ull).var(0).var(1000)
        .u8(8).u8(static_cast<std::uint8_t>(format::Mode::kLossy)).var(0).u8(1).var(64)
        .str("/usr/bin/prog").str("/tmp").var(1).str("prog").str("");
    w.kind(K::kThreadStart).var(1).var(0).var(77).str("main");
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(100).var(0).u8(0);
    w.kind(K::kLost).var(1).var(0).var(5).var(2).var(640);
    w.kind(K::kEnd).var(1).u8(0).var(8).var(6).var(2).var(740).var(7).var(0).var(1);
    test::Bytes file = test::file_header_bytes();
    test::append(file, test::block_bytes(w.out));
    test::TempDir dir;
    test::write_file(dir / "lossy.hwt", file);
    const auto r = test::run({test::heapwise_exe(), "report", (dir / "lossy.hwt").string()});
    INFO(r.err);
    CHECK(r.exited(0));
    CHECK(has_line(r.out, "mode          lossy"));
    CHECK(has_line(r.out, "dropped       7 events (5 allocations, 2 frees, 640 B) not in the figures"));
    const auto j = test::run({test::heapwise_exe(), "report", (dir / "lossy.hwt").string(), "--json"});
    const auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["trace"]["lost"] == nlohmann::json({{"events", 7}, {"allocs", 5}, {"frees", 2}, {"bytes", 640}}));
    // The allocation without a stack is its own site, keyed by its text.
    CHECK(doc["end"]["bytes"] == 100);
}
