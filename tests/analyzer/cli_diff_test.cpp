// `heapwise diff` on the real golden traces: two markers of one trace, two traces, by lineno and
// function, --top, --min-growth, --filter/--exclude, --at, and --fail-on-growth's exit code 3
// after the report. Each expected figure follows from tests/data/scraper.c.
#include <catch2/catch.hpp>

#include "cli_report_support.hpp"

using namespace heapwise;
using test::has_line;
using test::row_with_key;

TEST_CASE("diff between two markers of one trace", "[cli][diff]") {
    const auto j = test::heapwise_json({"diff", "scraper.hwt", "--from", "batch-1", "--to", "batch-3",
                                        "--by", "function"});
    CHECK(j["command"] == "diff");
    CHECK(j["two_traces"] == false);
    CHECK(j["from"]["point"] == "batch-1");
    CHECK(j["to"]["point"] == "batch-3");
    // Pages 11..30: 20 records and 5 headers more; the config unchanged.
    CHECK(j["size_diff"] == 20 * 208 + 5 * 300);
    CHECK(j["count_diff"] == 25);
    REQUIRE(j["rows"].size() == 3);
    CHECK(j["rows"][0]["key"] == "cache_page");
    CHECK(j["rows"][0]["size_diff"] == 20 * 208);
    CHECK(j["rows"][0]["count"] == 30);
    CHECK(j["rows"][1]["key"] == "keep_header");
    CHECK(j["rows"][1]["size_diff"] == 1500);
    CHECK(j["rows"][2]["key"] == "load_config");
    CHECK(j["rows"][2]["size_diff"] == 0);

    const auto text = test::heapwise_in_data({"diff", "scraper.hwt", "--from", "batch-1", "--to", "batch-3"});
    CHECK(text.exited(0));
    CHECK(text.out.find("scraper.c:36: size=6240 B (+4160 B), count=30 (+20), average=208 B\n"
                        "    struct record* r = malloc(sizeof *r);\n") != std::string::npos);
    CHECK(has_line(text.out, "total         size=16.1 KiB (+5660 B), count=38 (+25)"));

    // Defaults: start to end. Everything of the cache was freed at exit.
    const auto whole = test::heapwise_json({"diff", "scraper.hwt", "--by", "function"});
    CHECK(whole["from"]["point"] == "start");
    CHECK(whole["to"]["point"] == "end");
    CHECK(whole["size_diff"] == 8192 + 3000);
    CHECK(row_with_key(whole["rows"], "cache_page").is_null());
}

TEST_CASE("diff options choose and filter the rows", "[cli][diff]") {
    const std::vector<std::string> base = {"diff", "scraper.hwt", "--from", "batch-1", "--to", "batch-3",
                                           "--by", "function"};
    auto with = [&](std::vector<std::string> extra) {
        auto args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return test::heapwise_json(args);
    };
    const auto top = with({"--top", "1"});
    REQUIRE(top["rows"].size() == 1);
    CHECK(top["rows"][0]["key"] == "cache_page");
    const auto min = with({"--min-growth", "2KiB"});
    REQUIRE(min["rows"].size() == 1);
    CHECK(min["rows"][0]["key"] == "cache_page");
    CHECK(min["min_growth"] == 2048);
    CHECK(with({"--min-growth", "1500"})["rows"].size() == 2);
    const auto only = with({"--filter", "function:cache_*"});
    REQUIRE(only["rows"].size() == 1);
    CHECK(only["size_diff"] == 4160);
    const auto without = with({"--exclude", "function:cache_*", "--exclude", "function:load_*"});
    REQUIRE(without["rows"].size() == 1);
    CHECK(without["rows"][0]["key"] == "keep_header");
    CHECK(with({"--filter", "file:scraper.c"})["rows"].size() == 3);
    CHECK(with({"--filter", "module:libc.so*"})["rows"].empty());
}

TEST_CASE("diff between two traces, and --fail-on-growth", "[cli][diff]") {
    const auto j = test::heapwise_json({"diff", "scraper.hwt", "scraper-80.hwt", "--by", "function"});
    CHECK(j["two_traces"] == true);
    CHECK(j["old_trace"]["path"] == "scraper.hwt");
    CHECK(j["new_trace"]["path"] == "scraper-80.hwt");
    CHECK(j["from"]["point"] == "end");
    CHECK(j["to"]["point"] == "end");
    CHECK(j["size_diff"] == 3000);  // 20 leaked headers against 10
    CHECK(row_with_key(j["rows"], "keep_header")["count_diff"] == 10);
    CHECK(j["fail_on_growth"].is_null());

    // --at: the same marker in both runs holds the same heap.
    const auto at = test::heapwise_json({"diff", "scraper.hwt", "scraper-80.hwt", "--at", "batch-2", "--by", "function"});
    CHECK(at["size_diff"] == 0);
    CHECK(at["to"]["bytes"] == 8192 + 20 * 208 + 5 * 300);

    const auto over = test::heapwise_in_data({"diff", "scraper.hwt", "scraper-80.hwt", "--fail-on-growth", "2999"});
    CHECK(over.exited(3));
    CHECK(has_line(over.out, "growth check  +3000 B growth exceeds the limit of 2999 B"));
    CHECK(over.out.find("scraper.c:44: size=6000 B (+3000 B), count=20 (+10), average=300 B") != std::string::npos);
    const auto limit = test::heapwise_json({"diff", "scraper.hwt", "scraper-80.hwt", "--fail-on-growth", "3000"});
    CHECK(limit["fail_on_growth"] == nlohmann::json({{"limit", 3000}, {"checked_bytes", 3000}, {"exceeded", false}}));
    const auto json_over = test::heapwise_json({"diff", "scraper.hwt", "scraper-80.hwt", "--fail-on-growth", "2KB"}, 3);
    CHECK(json_over["fail_on_growth"]["limit"] == 2048);  // KB is 1024, as everywhere in heapwise
    CHECK(json_over["fail_on_growth"]["exceeded"] == true);
}
