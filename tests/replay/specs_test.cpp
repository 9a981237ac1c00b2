// Point, duration, size, grouping-key and filter parsing: exact values and one-line SpecErrors.
#include <catch2/catch.hpp>

#include "analyzer/replay/specs.hpp"

using namespace heapwise::analyzer;

TEST_CASE("size literals", "[replay]") {
    CHECK(parse_size("4096") == 4096);
    CHECK(parse_size("0") == 0);
    CHECK(parse_size("1MiB") == 1048576);
    CHECK(parse_size("512KiB") == 524288);
    CHECK(parse_size("512kib") == 524288);
    // One meaning for K, KB and KiB (1024), the tracer's (docs/tracer.md).
    CHECK(parse_size("10MB") == 10485760);
    CHECK(parse_size("10M") == 10485760);
    CHECK(parse_size("4k") == 4096);
    CHECK(parse_size("4KB") == 4096);
    CHECK(parse_size("1TB") == 1099511627776ull);
    CHECK(parse_size("1.5KiB") == 1536);
    CHECK(parse_size("2GiB") == 2147483648ull);
    CHECK(parse_size("7B") == 7);
    for (const char* bad : {"", "MiB", "1XB", "-1", "1.5", "1e3", " 5", "5 MiB", "0x10", "1.",
                            "99999999999TiB"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_size(bad), SpecError);
    }
    CHECK_THROWS_WITH(parse_size("1XB"), "bad size '1XB': unknown unit 'XB' (B, K/KB/KiB, "
                                         "M/MB/MiB, G/GB/GiB, T/TB/TiB, all powers of 1024)");
}

TEST_CASE("durations and points", "[replay]") {
    CHECK(parse_duration_ns("90s") == 90'000'000'000ull);
    CHECK(parse_duration_ns("1.5s") == 1'500'000'000ull);
    CHECK(parse_duration_ns("250ms") == 250'000'000ull);
    CHECK(parse_duration_ns("2m") == 120'000'000'000ull);
    CHECK(parse_duration_ns("2min") == 120'000'000'000ull);
    CHECK(parse_duration_ns("10us") == 10'000);
    for (const char* bad : {"90", "90x", "s", "1.5", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_duration_ns(bad), SpecError);
    }
    CHECK(parse_point("start").kind == PointSpec::Kind::kStart);
    CHECK(parse_point("end").kind == PointSpec::Kind::kEnd);
    CHECK(parse_point("peak").kind == PointSpec::Kind::kPeak);
    const PointSpec t = parse_point("1.5s");
    CHECK(t.kind == PointSpec::Kind::kTime);
    CHECK(t.time_ns == 1'500'000'000ull);
    const PointSpec m = parse_point("snap-3");
    CHECK(m.kind == PointSpec::Kind::kMarker);
    CHECK(m.label == "snap-3");
    CHECK(parse_point("marker:peak").label == "peak");
    CHECK(parse_point("marker:peak").kind == PointSpec::Kind::kMarker);
    CHECK_THROWS_AS(parse_point(""), SpecError);
    CHECK_THROWS_AS(parse_point("marker:"), SpecError);
    CHECK_THROWS_WITH(parse_point("90x"),
                      "bad time '90x': unknown unit 'x' (ns, us, ms, s, m or min, h)");
}

TEST_CASE("grouping keys and filters", "[replay]") {
    CHECK(parse_group_by("lineno") == GroupBy::kLineno);
    CHECK(parse_group_by("function") == GroupBy::kFunction);
    CHECK(parse_group_by("file") == GroupBy::kFile);
    CHECK(parse_group_by("module") == GroupBy::kModule);
    CHECK(parse_group_by("traceback") == GroupBy::kTraceback);
    CHECK(parse_group_by("stack") == GroupBy::kStack);
    CHECK_THROWS_WITH(parse_group_by("line"), "unknown grouping key 'line': expected lineno, "
                                              "function, file, module, traceback or stack");
    const SiteFilter f = parse_filter("file:*/parser.cpp");
    CHECK(f.target == SiteFilter::Target::kFile);
    CHECK(f.pattern == "*/parser.cpp");
    CHECK(parse_filter("module:libfoo*").target == SiteFilter::Target::kModule);
    CHECK(parse_filter("function:ns::*").target == SiteFilter::Target::kFunction);
    for (const char* bad : {"foo:bar", "function:", "bar", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_filter(bad), SpecError);
    }
}
