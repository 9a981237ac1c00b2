// Replay of encoder-written traces at the stack-id level: snapshots at start, a marker, a time,
// the peak and the end; temporaries; realloc and failed realloc; sampled scaling; lost events;
// RSS alongside the heap; an unknown marker; the replay's flat tables (AddrMap, DenseTable)
// against the standard containers they replace.
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "analyzer/replay/addr_map.hpp"

#include "analyzer/replay/replay.hpp"
#include "trace_bytes.hpp"
#include "trace_writer.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::kMs;

namespace {

constexpr StackId kS1{1}, kS2{2}, kS3{3};

StackUsage usage(const Snapshot& s, StackId id) {
    const auto it = s.stacks.find(id);
    return it == s.stacks.end() ? StackUsage{} : it->second;
}

// A: 100 B (s1) at 1ms, B: 200 B (s2) at 2ms, marker m1 at 3ms, A freed at 4ms, C: 1000 B (s3)
// at 5ms and freed at 6ms (a temporary), D: 50 B (s1) at 7ms, marker m2 at 8ms, end at 9ms.
void write_basic(const std::filesystem::path& path) {
    test::TraceWriter w(path);
    w.stack(1, {0x401000, 0x402000});
    w.stack(2, {0x401100, 0x402000});
    w.stack(3, {0x401200, 0x402000});
    w.alloc(1 * kMs, 0x1000, 100, 1);
    w.alloc(2 * kMs, 0x2000, 200, 2);
    w.marker(3 * kMs, "m1");
    w.flush();
    w.free(4 * kMs, 0x1000);
    w.alloc(5 * kMs, 0x3000, 1000, 3);
    w.free(6 * kMs, 0x3000);
    w.alloc(7 * kMs, 0x4000, 50, 1);
    w.marker(8 * kMs, "m2");
    w.end(9 * kMs);
}

}  // namespace

TEST_CASE("snapshots at start, marker, time, peak and end", "[replay]") {
    test::TempDir dir;
    write_basic(dir / "t.hwt");
    ReplayRequest req;
    for (const char* p : {"start", "m1", "4.5ms", "peak", "end", "marker:m2"}) {
        req.points.push_back(parse_point(p));
    }
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    REQUIRE(r.points.size() == 6);

    const Snapshot& start = r.points[0];
    CHECK(start.point == "start");
    CHECK(start.live_bytes == 0);
    CHECK(start.stacks.empty());

    const Snapshot& m1 = r.points[1];
    CHECK(m1.live_bytes == 300);
    CHECK(m1.live_count == 2);
    CHECK(usage(m1, kS1).live_bytes == 100);
    CHECK(usage(m1, kS2).live_bytes == 200);
    CHECK(m1.time_ns == 3'000'000);  // the marker's time

    const Snapshot& at = r.points[2];
    CHECK(at.live_bytes == 200);
    CHECK(at.time_ns == 4'500'000);
    CHECK(usage(at, kS1).live_bytes == 0);
    CHECK(usage(at, kS1).allocs == 1);

    const Snapshot& peak = r.points[3];
    CHECK(peak.live_bytes == 1200);
    CHECK(peak.live_count == 2);
    CHECK(usage(peak, kS3).live_bytes == 1000);
    CHECK(peak.time_ns == 5'000'000);

    const Snapshot& end = r.points[4];
    CHECK(end.live_bytes == 250);
    CHECK(end.live_count == 2);
    CHECK(usage(end, kS1).live_bytes == 50);
    CHECK(usage(end, kS1).allocs == 2);
    CHECK(usage(end, kS1).bytes_allocated == 150);
    CHECK(usage(end, kS3).live_count == 0);
    CHECK(usage(end, kS3).temporary == 1);
    CHECK(usage(end, kS1).temporary == 0);
    CHECK(r.points[5].live_bytes == 250);

    CHECK(r.facts.allocs == 4);
    CHECK(r.facts.frees == 2);
    CHECK(r.facts.temporary == 1);
    CHECK(r.facts.bytes_allocated == 1350);
    CHECK(r.facts.peak_bytes == 1200);
    CHECK(r.facts.peak_time_ns == 5'000'000);
    CHECK(r.facts.duration_ns == 9'000'000);
    CHECK(r.facts.end_bytes == 250);
    REQUIRE(r.facts.markers.size() == 2);
    CHECK(r.facts.markers[1].label == "m2");
    CHECK(r.facts.free_of_unknown == 0);
    CHECK_FALSE(end.estimated);
    CHECK(r.stacks.frames(kS2).size() == 2);
}

TEST_CASE("an unknown marker is a SpecError naming the markers there are", "[replay]") {
    test::TempDir dir;
    write_basic(dir / "t.hwt");
    ReplayRequest req;
    req.points.push_back(parse_point("snap-9"));
    CHECK_THROWS_WITH(replay_trace(dir / "t.hwt", req),
                      "unknown marker 'snap-9': the trace has markers m1, m2");
}

TEST_CASE("a time after the end captures the end; temporaries are per thread", "[replay]") {
    test::TempDir dir;
    {
        test::TraceWriter w(dir / "t.hwt");
        w.stack(1, {0x401000});
        w.alloc(1 * kMs, 0x1000, 10, 1, /*thread*/ 0);
        w.alloc(2 * kMs, 0x2000, 20, 1, /*thread*/ 1);  // another thread between: still temporary
        w.free(3 * kMs, 0x1000, 0);
        w.alloc(4 * kMs, 0x3000, 30, 1, 0);
        w.alloc(5 * kMs, 0x4000, 40, 1, 0);  // same thread allocates again: 0x3000 is not
        w.free(6 * kMs, 0x3000, 0);
        w.free(7 * kMs, 0x2000, 0);  // freed by another thread: not temporary
    }
    ReplayRequest req;
    req.points.push_back(parse_point("1h"));
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    CHECK(r.facts.temporary == 1);
    CHECK(r.points[0].live_bytes == 40);
    CHECK(usage(r.points[0], kS1).temporary == 1);
}

TEST_CASE("realloc moves a block between stacks; a failed realloc restores it", "[replay]") {
    test::TempDir dir;
    {
        test::TraceWriter w(dir / "t.hwt");
        w.stack(1, {0x401000});
        w.stack(2, {0x401100});
        w.alloc(1 * kMs, 0x1000, 100, 1);
        w.free(2 * kMs, 0x1000, 0, format::FreeFn::kRealloc);
        w.alloc(2 * kMs, 0x5000, 300, 2, 0, format::AllocFn::kRealloc);
        w.marker(3 * kMs, "moved");
        w.free(4 * kMs, 0x5000, 0, format::FreeFn::kRealloc);
        w.enc().realloc_failed(4 * kMs, 0, 0x5000);
    }
    ReplayRequest req;
    req.points = {parse_point("moved"), parse_point("end")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    for (const Snapshot& s : r.points) {
        INFO(s.point);
        CHECK(s.live_bytes == 300);
        CHECK(s.live_count == 1);
        CHECK(usage(s, kS1).live_bytes == 0);
        CHECK(usage(s, kS2).live_bytes == 300);
    }
    CHECK(r.facts.temporary == 0);  // a realloc's free moves the block; it is not a temporary
    CHECK(r.facts.peak_bytes == 300);
    CHECK(r.facts.free_of_unknown == 0);
}

TEST_CASE("sampled traces are scaled and marked as estimates; lost events are counted", "[replay]") {
    test::TempDir dir;
    {
        test::TraceWriter w(dir / "t.hwt", format::Mode::kSampled, 1000);
        w.stack(1, {0x401000});
        w.stack(2, {0x401100});
        w.alloc(1 * kMs, 0x1000, 1000, 1);     // p = 1 - e^-1: 1581.98 B, 1.58 blocks
        w.alloc(2 * kMs, 0x2000, 10, 2);       // p = 1 - e^-0.01: 1005.0 B, 100.5 blocks
        w.alloc(3 * kMs, 0x3000, 100000, 2);   // p = 1 - e^-100 = 1
        w.enc().lost(4 * kMs, 0, 3, 2, 500);
        w.enc().rss(5 * kMs, 1 << 20);
    }
    ReplayRequest req;
    req.points.push_back(parse_point("end"));
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    const Snapshot& end = r.points[0];
    CHECK(end.estimated);
    CHECK(r.facts.sampled);
    CHECK(usage(end, kS1).live_bytes == 1582);
    CHECK(usage(end, kS1).live_count == 2);
    CHECK(usage(end, kS2).live_bytes == 1005 + 100000);
    CHECK(usage(end, kS2).live_count == 101 + 1);
    CHECK(end.live_bytes == 1582 + 1005 + 100000);
    CHECK(r.facts.lost_allocs == 3);
    CHECK(r.facts.lost_frees == 2);
    CHECK(r.facts.lost_bytes == 500);
    REQUIRE(r.facts.rss.size() == 1);
    CHECK(r.facts.rss[0].rss_bytes == 1 << 20);
    CHECK(r.facts.rss[0].heap_bytes == 1582 + 1005 + 100000);
    CHECK(r.facts.max_rss_bytes == 1 << 20);
}

TEST_CASE("a truncated trace replays up to its last good block and counts the damage",
          "[replay]") {
    test::TempDir dir;
    write_basic(dir / "t.hwt");
    const auto size = std::filesystem::file_size(dir / "t.hwt");
    std::filesystem::resize_file(dir / "t.hwt", size - 3);  // cuts the second block short
    ReplayRequest req;
    req.points = {parse_point("peak"), parse_point("end")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    CHECK(r.facts.damaged == 1);
    CHECK_FALSE(r.summary.clean());
    CHECK(r.points[0].live_bytes == 300);
    CHECK(r.points[1].live_bytes == 300);
    CHECK(r.facts.markers.size() == 1);
    ReplayRequest missing;
    missing.points = {parse_point("m2")};
    CHECK_THROWS_AS(replay_trace(dir / "t.hwt", missing), SpecError);
    CHECK_THROWS_AS(replay_trace(dir / "absent.hwt", req), TraceError);
}

TEST_CASE("AddrMap matches unordered_map over a random churn of inserts and erases", "[replay]") {
    AddrMap<std::uint64_t> map;
    std::unordered_map<std::uint64_t, std::uint64_t> ref;
    std::mt19937_64 rng(42);
    // Few distinct keys (16-byte aligned, plus 0) so inserts hit live keys and erases find them,
    // and the table grows, fills its probe runs and shifts entries back on erase.
    for (int i = 0; i < 200000; ++i) {
        const std::uint64_t key = (rng() % 3000) * 16;
        const std::uint64_t op = rng() % 3;
        if (op == 0) {
            const auto [v, inserted] = map.try_emplace(key, static_cast<std::uint64_t>(i));
            const auto [it, ref_inserted] = ref.try_emplace(key, static_cast<std::uint64_t>(i));
            REQUIRE(inserted == ref_inserted);
            REQUIRE(*v == it->second);
        } else if (op == 1) {
            REQUIRE(map.erase(key) == (ref.erase(key) == 1));
        } else {
            const std::uint64_t* v = map.find(key);
            const auto it = ref.find(key);
            REQUIRE((v != nullptr) == (it != ref.end()));
            if (v != nullptr) REQUIRE(*v == it->second);
        }
        REQUIRE(map.size() == ref.size());
    }
    for (const auto& [k, v] : ref) {
        REQUIRE(map.find(k) != nullptr);
        CHECK(*map.find(k) == v);
    }
}

TEST_CASE("DenseTable keeps far ids in its map and moves them in as the dense range grows",
          "[replay]") {
    DenseTable<StackId, std::uint64_t> t;
    t.get(StackId{4000000000u}) = 7;  // a corrupt id: must not size a vector of 4e9 entries
    t.get(StackId{3000}) = 5;         // beyond 2 * 0 + 1024: sparse too
    t.get(StackId{1}) = 1;
    t.get(StackId{1500}) = 3;  // dense now reaches 1500, and 3000 is within 2 * 1501 + 1024
    t.get(StackId{3100}) = 4;  // grows the dense range past 3000, which moves in
    CHECK(*t.find(StackId{1}) == 1);
    CHECK(*t.find(StackId{1500}) == 3);
    CHECK(*t.find(StackId{3000}) == 5);
    CHECK(*t.find(StackId{3100}) == 4);
    CHECK(*t.find(StackId{4000000000u}) == 7);
    CHECK(t.find(StackId{4000000001u}) == nullptr);
    std::uint64_t sum = 0, n = 0;
    t.for_each([&](StackId, std::uint64_t v) {
        sum += v;
        n += v != 0 ? 1 : 0;
    });
    CHECK(sum == 20);
    CHECK(n == 5);
}

TEST_CASE("stack ids and thread indexes far beyond the dense range replay like small ones",
          "[replay]") {
    test::TempDir dir;
    {
        test::TraceWriter w(dir / "t.hwt");
        w.stack(1, {0x401000});
        w.stack(3000000000u, {0x401100});
        w.alloc(1 * kMs, 0x1000, 10, 1, /*thread*/ 2000000000u);
        w.free(2 * kMs, 0x1000, 2000000000u);  // its thread's next event: a temporary
        w.alloc(3 * kMs, 0x2000, 20, 3000000000u, 5);
        w.alloc(4 * kMs, 0x0, 30, 3000000000u, 5);  // address 0 is a key like any other
    }
    ReplayRequest req;
    req.points.push_back(parse_point("end"));
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    const Snapshot& end = r.points[0];
    CHECK(r.facts.temporary == 1);
    CHECK(end.live_bytes == 50);
    CHECK(end.live_count == 2);
    CHECK(usage(end, kS1).allocs == 1);
    CHECK(usage(end, kS1).temporary == 1);
    CHECK(usage(end, StackId{3000000000u}).live_bytes == 50);
    CHECK(end.stacks.size() == 2);
}
