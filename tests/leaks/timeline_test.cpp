// The timeline library (suite 'unit', tag [timeline]): the downsampler's bounds and maxima, and
// timelines of traces written with the shim's own encoder into real temp files, checked against
// exact expected CSV text and against HeapReplay's peak; the SVG is parsed as XML by python3.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <string>

#include "analyzer/replay/replay.hpp"
#include "analyzer/timeline/timeline.hpp"
#include "run_process.hpp"
#include "trace_bytes.hpp"
#include "trace_writer.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::kMs;

namespace {

// Runs python3 on an SVG file: checks it is well-formed XML and prints facts about it, one per line.
std::string svg_facts(const std::filesystem::path& svg) {
    static const char* kScript = R"(
import sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
print('root', root.tag == ns + 'svg')
for e in root.iter():
    tag = e.tag.replace(ns, '')
    if tag in ('script', 'style', 'image', 'foreignObject', 'a', 'link'): print('forbidden', tag)
    for k in e.attrib:
        if 'href' in k: print('forbidden href')
for pl in root.iter(ns + 'polyline'):
    print('polyline', pl.get('id'), len(pl.get('points').split()))
markers = root.find(ns + "g[@id='markers']")
print('marker-lines', len(markers.findall(ns + 'line')))
for t in markers.findall(ns + 'text'): print('marker-label', t.text)
peak = root.find(ns + "g[@id='peak']")
print('peak-text', peak.find(ns + 'text').text)
)";
    const auto r = test::run({"/usr/bin/python3", "-c", kScript, svg.string()});
    if (!r.exited(0)) FAIL("python3 could not parse the SVG: " << r.err);
    return r.out;
}

}  // namespace

TEST_CASE("the downsampler keeps every point while they fit, then bucket maxima", "[timeline]") {
    MaxDownsampler d(4);
    d.add(0, 5);
    d.add(1, 7);
    d.add(3, 2);
    REQUIRE(d.size() == 3);
    CHECK(d.bucket_ns() == 1);
    d.add(9, 1);  // index 9 >= 4: width 4 (indices 0,0,0,2)
    const auto p = d.points();
    REQUIRE(p.size() == 2);
    CHECK(p[0].time_ns == 1);
    CHECK(p[0].value == 7);
    CHECK(p[1].time_ns == 9);
    CHECK(d.bucket_ns() == 4);
    CHECK_THROWS_AS(MaxDownsampler(1), std::invalid_argument);
}

TEST_CASE("the downsampler never loses the maximum and keeps its first time", "[timeline]") {
    std::mt19937_64 rng(42);
    MaxDownsampler d(50);
    std::uint64_t best = 0;
    std::uint64_t best_t = 0;
    for (std::uint64_t t = 0; t < 1'000'000; t += 1 + rng() % 97) {
        const std::uint64_t v = rng() % 1'000'000;
        if (v > best) {
            best = v;
            best_t = t;
        }
        d.add(t, v);
    }
    CHECK(d.size() >= 25);  // coarsening at most halves the points of a series without gaps
    d.add(2'000'000, best);  // the same maximum again, later: the first one stays
    const auto p = d.points();
    REQUIRE(p.size() <= 50);
    const auto top = std::max_element(p.begin(), p.end(),
                                      [](const SeriesPoint& a, const SeriesPoint& b) { return a.value < b.value; });
    CHECK(top->value == best);
    CHECK(top->time_ns == best_t);
    CHECK(std::is_sorted(p.begin(), p.end(),
                         [](const SeriesPoint& a, const SeriesPoint& b) { return a.time_ns < b.time_ns; }));
}

TEST_CASE("a small trace's timeline is every heap step, RSS and markers, exactly", "[timeline]") {
    test::TempDir dir;
    const auto path = dir / "small.hwt";
    {
        test::TraceWriter w(path);
        w.stack(1, {0x1000});
        w.alloc(1 * kMs, 0xa0, 100, 1);
        w.enc().rss(2 * kMs, 4096);
        w.alloc(3 * kMs, 0xb0, 1000, 1);
        w.marker(4 * kMs, "half <&> way");
        w.free(5 * kMs, 0xa0);
        w.enc().rss(5 * kMs, 8192);
        w.free(6 * kMs, 0xb0);
        w.alloc(7 * kMs, 0xc0, 10, 1);
        w.end(8 * kMs);
    }
    ReadSummary summary;
    const Timeline t = build_timeline(path, {}, &summary);
    CHECK(summary.clean());
    CHECK(t.peak_bytes == 1100);
    CHECK(t.peak_time_ns == 3'000'000);
    CHECK(t.end_bytes == 10);
    CHECK(t.duration_ns == 8'000'000);
    CHECK(t.heap_events == 5);
    CHECK(t.rss_samples == 2);
    CHECK(t.max_rss_bytes == 8192);
    CHECK(t.heap_bucket_ns == 4096);  // 8 ms over 1998 buckets: 2^12 ns wide
    REQUIRE(t.markers.size() == 1);
    CHECK(t.markers[0].time_ns == 4'000'000);
    CHECK(t.markers[0].label == "half <&> way");
    CHECK(timeline_csv(t) ==
          "time_s,heap_bytes,rss_bytes\n"
          "0.000000000,0,\n"
          "0.001000000,100,\n"
          "0.002000000,100,4096\n"
          "0.003000000,1100,4096\n"
          "0.005000000,1000,8192\n"  // RSS first on equal times
          "0.005000000,1000,8192\n"
          "0.006000000,0,8192\n"
          "0.007000000,10,8192\n"
          "0.008000000,10,8192\n");  // the end

    const auto svg_path = dir / "small.svg";
    std::ofstream(svg_path) << timeline_svg(t);
    const std::string facts = svg_facts(svg_path);
    CHECK(facts.find("root True\n") != std::string::npos);
    CHECK(facts.find("forbidden") == std::string::npos);
    CHECK(facts.find("polyline rss 2\n") != std::string::npos);
    CHECK(facts.find("polyline heap 13\n") != std::string::npos);  // 7 points as steps
    CHECK(facts.find("marker-lines 1\n") != std::string::npos);
    CHECK(facts.find("marker-label half <&> way\n") != std::string::npos);
    CHECK(facts.find("peak-text peak 1.07 KiB at 3.00 ms\n") != std::string::npos);
}

TEST_CASE("a long trace is downsampled to the points asked for, peak and end exact", "[timeline]") {
    test::TempDir dir;
    const auto path = dir / "long.hwt";
    std::uint64_t expect_end = 0;
    {
        test::TraceWriter w(path);
        w.stack(1, {0x1000});
        w.stack(2, {0x2000});
        std::mt19937_64 rng(7);
        std::vector<std::pair<std::uint64_t, std::uint64_t>> live;  // addr, size
        std::uint64_t t = 0;
        for (int i = 0; i < 60'000; ++i) {
            t += 1 + rng() % 50;
            if (live.size() < 200 && (live.empty() || rng() % 2 == 0)) {
                const std::uint64_t size = 16 + rng() % 4000;
                live.emplace_back(0x10000 + static_cast<std::uint64_t>(i) * 0x1000, size);
                w.alloc(t, live.back().first, size, 1 + rng() % 2);
            } else {
                const std::size_t k = rng() % live.size();
                w.free(t, live[k].first);
                live[k] = live.back();
                live.pop_back();
            }
            if (i % 1000 == 0) w.enc().rss(t, 1'000'000 + static_cast<std::uint64_t>(i) * 10);
            if (i % 5000 == 0) w.marker(t, "m" + std::to_string(i / 5000));
            if (i % 2000 == 1999) w.flush();
        }
        for (const auto& [addr, size] : live) expect_end += size;
        w.end(t + 1);
    }
    TimelineOptions options;
    options.max_points = 100;
    const Timeline t = build_timeline(path, options);
    ReplayRequest req;
    req.points = {parse_point("peak"), parse_point("end")};
    const ReplayResult r = replay_trace(path, req);

    REQUIRE(t.heap.size() <= 100);
    CHECK(t.heap.size() >= 50);
    CHECK(t.rss.size() == 60);  // 60 samples fit in 100 buckets
    CHECK(t.markers.size() == 12);
    CHECK(t.heap_events == 60'000);
    CHECK(t.peak_bytes == r.facts.peak_bytes);
    CHECK(t.peak_time_ns == r.facts.peak_time_ns);
    CHECK(t.end_bytes == expect_end);
    CHECK(t.end_bytes == r.facts.end_bytes);
    CHECK(t.heap.back().heap_bytes == expect_end);
    CHECK(t.heap.back().time_ns == t.duration_ns);
    CHECK(t.heap.front().time_ns == 0);
    CHECK(t.heap.front().heap_bytes == 0);
    // The peak is one of the points, at its own time, and nothing is above it.
    CHECK(std::any_of(t.heap.begin(), t.heap.end(), [&](const HeapPoint& p) {
        return p.heap_bytes == t.peak_bytes && p.time_ns == t.peak_time_ns;
    }));
    CHECK(std::all_of(t.heap.begin(), t.heap.end(),
                      [&](const HeapPoint& p) { return p.heap_bytes <= t.peak_bytes; }));

    options.max_markers = 5;
    options.max_points = 4;
    const Timeline small = build_timeline(path, options);
    CHECK(small.heap.size() <= 4);
    CHECK(small.markers.size() == 5);
    CHECK(small.markers_total == 12);
    CHECK(small.peak_bytes == r.facts.peak_bytes);
    options.max_points = 3;
    CHECK_THROWS_AS(build_timeline(path, options), std::invalid_argument);

    const auto svg_path = dir / "long.svg";
    std::ofstream(svg_path) << timeline_svg(small);
    const std::string facts = svg_facts(svg_path);
    CHECK(facts.find("root True\n") != std::string::npos);
    CHECK(facts.find("marker-lines 5\n") != std::string::npos);
    CHECK(facts.find("peak-text peak ") != std::string::npos);
}

TEST_CASE("marker labels that are not valid UTF-8 still give well-formed SVG", "[timeline]") {
    Timeline t;
    t.heap = {{0, 0}, {10, 5}};
    t.peak_bytes = 5;
    t.peak_time_ns = 10;
    t.duration_ns = 10;
    t.markers = {{5, std::string("bad\xff\xc3(\x01 \xe2\x82\xac ok\"'")}};
    t.markers_total = 1;
    t.exe = "/bin/<weird>";
    test::TempDir dir;
    std::ofstream(dir / "t.svg") << timeline_svg(t);
    const std::string facts = svg_facts(dir / "t.svg");
    CHECK(facts.find("marker-label bad?" "?(? \u20ac ok\"'\n") != std::string::npos);
}

TEST_CASE("the tracer's internal stack is left out of the heap, as in the replay", "[timeline]") {
    test::TempDir dir;
    const auto path = dir / "internal.hwt";
    {
        test::TraceWriter w(path);
        w.stack(1, {0x1000});
        w.enc().stack(2, {});
        w.enc().internal_stack(2);
        w.alloc(1 * kMs, 0xa0, 100, 1);
        w.alloc(2 * kMs, 0xb0, 5000, 2);  // the tracer's bookkeeping: not the program's heap
        w.alloc(3 * kMs, 0xc0, 50, 1);
        w.free(4 * kMs, 0xb0);
        w.end(5 * kMs);
    }
    const Timeline t = build_timeline(path);
    CHECK(t.peak_bytes == 150);
    CHECK(t.peak_time_ns == 3'000'000);
    CHECK(t.end_bytes == 150);
    CHECK(timeline_csv(t) ==
          "time_s,heap_bytes,rss_bytes\n"
          "0.000000000,0,\n"
          "0.001000000,100,\n"
          "0.002000000,100,\n"
          "0.003000000,150,\n"
          "0.004000000,150,\n"
          "0.005000000,150,\n");
}
