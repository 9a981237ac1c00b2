// `heapwise leaks` on the real golden traces: live at end largest first with counts, growth
// leaks over markers and over time slices with their rates, a flat one-time allocation not
// called a growth leak, and --fail-on-growth.
#include <catch2/catch.hpp>

#include "cli_report_support.hpp"

using namespace heapwise;
using test::has_line;
using test::row_with_key;

TEST_CASE("leaks: live at end and growth over markers", "[cli][leaks]") {
    const auto j = test::heapwise_json({"leaks", "scraper.hwt", "--by", "function"});
    CHECK(j["command"] == "leaks");
    CHECK(j["at_end"]["bytes"] == 11192);
    CHECK(j["at_end"]["count"] == 11);
    const auto& live = j["at_end"]["rows"];
    REQUIRE(live.size() == 2);
    CHECK(live[0]["key"] == "load_config");
    CHECK(live[0]["size"] == 8192);
    CHECK(live[0]["count"] == 1);
    CHECK(live[1]["key"] == "keep_header");
    CHECK(live[1]["size"] == 3000);
    CHECK(live[1]["count"] == 10);

    const auto& g = j["growth"];
    CHECK(g["series"] == "markers");
    CHECK(g["snapshots"] == 6);  // start, batch-1..4, end
    REQUIRE(g["rows"].size() == 2);
    const auto cache = row_with_key(g["rows"], "cache_page");
    REQUIRE(!cache.is_null());
    CHECK(cache["rising"] == 4);
    CHECK(cache["intervals"] == 5);
    CHECK(cache["max_bytes"] == 40 * 208);
    CHECK(cache["last_bytes"] == 0);  // freed at exit: grew, but no leak at exit
    CHECK(cache["bytes_per_second"].get<double>() > 0);
    const auto header = row_with_key(g["rows"], "keep_header");
    REQUIRE(!header.is_null());
    CHECK(header["max_bytes"] == 3000);
    CHECK(row_with_key(g["rows"], "load_config").is_null());  // one-time, then flat
    CHECK(g["bytes"] == 40 * 208 + 3000);

    const auto text = test::heapwise_in_data({"leaks", "scraper.hwt", "--by", "lineno"});
    CHECK(text.exited(0));
    CHECK(has_line(text.out, "growth        2 sites kept growing, by 11.1 KiB in all; series of 6 "
                             "snapshots: start, each marker, end"));
    CHECK(text.out.find("scraper.c:44: size=3000 B, count=10, average=300 B\n"
                        "    char* header = malloc(300);\n") != std::string::npos);
}

TEST_CASE("leaks: growth over time slices when there are no markers", "[cli][leaks]") {
    const auto j = test::heapwise_json({"leaks", "scraper-slices.hwt", "--by", "function"});
    CHECK(j["growth"]["series"] == "time_slices");
    CHECK(j["growth"]["snapshots"] == 11);
    CHECK(!row_with_key(j["growth"]["rows"], "cache_page").is_null());
    CHECK(row_with_key(j["growth"]["rows"], "load_config").is_null());
    const auto four = test::heapwise_json({"leaks", "scraper-slices.hwt", "--by", "function", "--slices", "4"});
    CHECK(four["growth"]["snapshots"] == 5);
    const auto text = test::heapwise_in_data({"leaks", "scraper-slices.hwt"});
    CHECK(text.out.find("10 equal time slices (the trace has no markers)") != std::string::npos);
}

TEST_CASE("leaks --fail-on-growth checks the larger of leaked and growing bytes", "[cli][leaks]") {
    // leaked 11192, growing 8320 + 3000 = 11320.
    CHECK(test::heapwise_in_data({"leaks", "scraper.hwt", "--fail-on-growth", "11320"}).exited(0));
    const auto over = test::heapwise_in_data({"leaks", "scraper.hwt", "--fail-on-growth", "11319"});
    CHECK(over.exited(3));
    CHECK(has_line(over.out, "growth check  11.1 KiB leaked or growing exceeds the limit of 11.1 KiB"));
    const auto j = test::heapwise_json({"leaks", "scraper.hwt", "--fail-on-growth", "10KiB"}, 3);
    CHECK(j["fail_on_growth"]["checked_bytes"] == 11320);
}

TEST_CASE("--fold and --no-fold change where a site is", "[cli][leaks]") {
    // keep_header folded: its leak belongs to its caller, main.
    const auto j = test::heapwise_json({"leaks", "scraper.hwt", "--by", "function", "--fold", "function:keep_*"});
    const auto& live = j["at_end"]["rows"];
    REQUIRE(live.size() == 2);
    CHECK(live[1]["key"] == "main");
    CHECK(live[1]["size"] == 3000);
    CHECK(live[1]["site"]["line"] == 69);
    CHECK(test::heapwise_json({"leaks", "scraper.hwt", "--by", "function", "--no-fold", "function:malloc"})
              ["at_end"]["rows"][1]["key"] == "keep_header");
    const auto bad = test::heapwise_in_data({"leaks", "scraper.hwt", "--no-fold", "function:nothing_like_it"});
    CHECK(bad.exited(2));
    CHECK(bad.err == "heapwise: --no-fold 'function:nothing_like_it': not in the folding list (docs/symbols.md)\n");
    const auto empty = test::heapwise_in_data({"leaks", "scraper.hwt", "--fold", "module:"});
    CHECK(empty.exited(2));
    CHECK(empty.err_lines().size() == 1);
}
