// The rows' text forms against CPython's tracemalloc: every expected string below is what
// tracemalloc._format_size / StatisticDiff.__str__ / Statistic.__str__ print for the same numbers
// (checked with /usr/bin/python3 3.11), including the unit boundaries and rounding edges.
#include <catch2/catch.hpp>
#include <sstream>

#include "heapwise/leak_detector.hpp"

using heapwise::format_size;
using heapwise::StatisticDiff;

TEST_CASE("format_size matches tracemalloc's _format_size", "[detector]") {
    CHECK(format_size(0, false) == "0 B");
    CHECK(format_size(0, true) == "+0 B");
    CHECK(format_size(99, false) == "99 B");
    CHECK(format_size(100, true) == "+100 B");
    CHECK(format_size(10239, false) == "10239 B");
    CHECK(format_size(10240, false) == "10.0 KiB");
    CHECK(format_size(-10240, true) == "-10.0 KiB");
    CHECK(format_size(102399, false) == "100.0 KiB");  // 99.999 KiB rounds up inside the "< 100" arm
    CHECK(format_size(102400, false) == "100 KiB");
    CHECK(format_size(104857, false) == "102 KiB");
    CHECK(format_size(10485759, false) == "10240 KiB");
    CHECK(format_size(12900612, false) == "12.3 MiB");
    CHECK(format_size(12900512, true) == "+12.3 MiB");
    CHECK(format_size(-4000, true) == "-4000 B");
    CHECK(format_size(1.5 * 1099511627776.0, false) == "1536 GiB");
    CHECK(format_size(5000 * 1099511627776.0, true) == "+5000 TiB");  // TiB is the last unit
}

TEST_CASE("rows print like tracemalloc's StatisticDiff and Statistic", "[detector]") {
    StatisticDiff row;
    row.key = "scraper.cpp:142";
    row.size = 12900612;
    row.size_diff = 12900512;
    row.count = 3002;
    row.count_diff = 3001;
    CHECK(to_string(row) ==
          "scraper.cpp:142: size=12.3 MiB (+12.3 MiB), count=3002 (+3001), average=4297 B");
    std::ostringstream out;
    out << row;
    CHECK(out.str() == to_string(row));

    row.size = 1000;
    row.size_diff = -4000;
    row.count = 1;
    row.count_diff = -4;
    CHECK(to_string(row) == "scraper.cpp:142: size=1000 B (-4000 B), count=1 (-4), average=1000 B");

    row.size = 0;  // gone: no average, like tracemalloc when count is 0
    row.size_diff = -64;
    row.count = 0;
    row.count_diff = -1;
    CHECK(to_string(row) == "scraper.cpp:142: size=0 B (-64 B), count=0 (-1)");

    row.has_diff = false;  // a statistics() row
    row.size = 40960;
    row.count = 4;
    CHECK(to_string(row) == "scraper.cpp:142: size=40.0 KiB, count=4, average=10.0 KiB");
}

TEST_CASE("grouping keys parse from their names", "[detector]") {
    using heapwise::By;
    for (By by : {By::lineno, By::function, By::file, By::module, By::traceback}) {
        CHECK(heapwise::parse_by(heapwise::to_string(by)) == by);
    }
    try {
        heapwise::parse_by("line");
        FAIL("parse_by accepted 'line'");
    } catch (const heapwise::DetectorError& e) {
        CHECK(e.code() == heapwise::DetectorError::Code::bad_argument);
        CHECK(std::string(e.what()) ==
              "heapwise::LeakDetector: unknown grouping key 'line' (expected lineno, function, "
              "file, module or traceback)");
    }
}
