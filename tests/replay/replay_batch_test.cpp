// HeapReplay fed the decoder's runs of heap events (read_with: on_heap_events, each run cut where
// a stop falls) against HeapReplay fed one event at a time (read: the virtual interface): the
// same snapshots at stops by record position and by time, at markers, at the peak, and the same
// facts, for each level of detail, on random multi-block traces (reallocs and failed ones,
// internal stacks, sampling, damage) and on the golden traces of real programs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "analyzer/replay/heap_replay.hpp"
#include "analyzer/trace_reader.hpp"
#include "random_trace.hpp"
#include "snapshot_checks.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using Detail = HeapReplay::Detail;

static_assert(HeapBatchVisitor<HeapReplay>);

namespace {

// Every number of the facts, the RSS samples and markers included.
std::vector<std::uint64_t> numbers(const ReplayFacts& f) {
    std::vector<std::uint64_t> v = {
        f.sampled, f.sample_interval, f.duration_ns, f.records, f.allocs, f.frees,
        f.bytes_allocated, f.temporary, f.peak_bytes, f.peak_count, f.peak_time_ns,
        f.peak_position, f.end_bytes, f.end_count, f.max_rss_bytes, f.lost_allocs, f.lost_frees,
        f.lost_bytes, f.damaged, f.free_of_unknown, f.alloc_of_live, f.realloc_failed_unknown};
    for (const RssSample& r : f.rss) v.insert(v.end(), {r.time_ns, r.rss_bytes, r.heap_bytes});
    for (const MarkerAt& m : f.markers) v.insert(v.end(), {m.time_ns, m.position, m.label.size()});
    return v;
}

struct Outcome {
    std::vector<Snapshot> snapshots;  // at stops and markers, in order
    std::vector<std::uint64_t> stop_times;
    Snapshot peak;
    std::vector<std::uint64_t> facts;
    std::uint64_t records = 0;
    std::uint64_t damaged = 0;
};

// Two snapshots alike, their names and estimate flags included.
void require_same_named(const Snapshot& a, const Snapshot& b) {
    INFO("snapshot " << a.point);
    CHECK(a.point == b.point);
    CHECK(a.estimated == b.estimated);
    require_same(a, b);
}

// One replay of path with stops every `records` records and every `ns` of trace time after the
// last stop, and a snapshot at every marker.
Outcome replay(const std::filesystem::path& path, Detail detail, bool batched, std::uint64_t records,
               std::uint64_t ns) {
    HeapReplay r(detail);
    Outcome out;
    r.set_stop_hook(
        [&](const HeapReplay& h, std::uint64_t time_ns) {
            out.snapshots.push_back(h.snapshot("stop"));
            out.stop_times.push_back(time_ns);
            return HeapReplay::Stop{h.position() + records, time_ns + ns};
        },
        HeapReplay::Stop{records, ns});
    r.set_marker_hook([&](const HeapReplay& h, const Marker& m) {
        out.snapshots.push_back(h.snapshot(m.label));
    });
    TraceReader reader(path);
    const ReadSummary s = batched ? reader.read_with(r) : reader.read(r);
    out.peak = r.peak_snapshot("peak");
    out.facts = numbers(r.facts());
    out.records = s.records;
    out.damaged = s.damaged;
    return out;
}

// Both ways, each detail, two spacings of stops; returns the stops seen (to know they happened).
std::size_t check_both_ways(const std::filesystem::path& path, std::uint64_t ns) {
    std::size_t stops = 0;
    for (const Detail detail : {Detail::kStacks, Detail::kStacksAndPeak, Detail::kTotals}) {
        for (const std::uint64_t records : {std::uint64_t{997}, std::uint64_t{61}}) {
            INFO("detail " << static_cast<int>(detail) << ", a stop every " << records << " records");
            const Outcome one = replay(path, detail, false, records, ns);
            const Outcome runs = replay(path, detail, true, records, ns);
            CHECK(one.snapshots.size() == runs.snapshots.size());
            CHECK(one.stop_times == runs.stop_times);
            require_same_named(one.peak, runs.peak);
            CHECK(one.facts == runs.facts);
            CHECK(one.records == runs.records);
            CHECK(one.damaged == runs.damaged);
            for (std::size_t i = 0; i < one.snapshots.size() && i < runs.snapshots.size(); ++i) {
                INFO("snapshot " << i);
                require_same_named(one.snapshots[i], runs.snapshots[i]);
            }
            if (detail == Detail::kStacksAndPeak) CHECK(!one.peak.stacks.empty());
            stops += one.stop_times.size();
        }
    }
    return stops;
}

}  // namespace

TEST_CASE("replay batches: random traces give the same snapshots, peak and facts both ways",
          "[replay][batch]") {
    int traces = 0;
    for (const int internal : {0, 1, 2}) {
        for (const std::uint64_t sampled : {std::uint64_t{0}, std::uint64_t{4096}}) {
            for (const bool damage : {false, true}) {
                INFO("internal " << internal << ", sampled " << sampled << ", damage " << damage);
                test::TempDir dir;
                test::write_file(dir / "r.hwt",
                                 test::random_trace(41 + static_cast<std::uint64_t>(internal), 7,
                                                    {.damage = damage, .internal = internal, .sampled = sampled}));
                // Times advance ~25 us per event on average: a time stop every ~120 events.
                CHECK(check_both_ways(dir / "r.hwt", 3'000'000) > 300);
                ++traces;
            }
        }
    }
    CHECK(traces == 12);
}

TEST_CASE("replay batches: the golden traces give the same snapshots, peak and facts both ways",
          "[replay][batch]") {
    const char* data = std::getenv("HEAPWISE_TEST_DATA");
    REQUIRE(data != nullptr);
    for (const char* name : {"scraper.hwt", "scraper-80.hwt", "scraper-sampled.hwt", "scraper-slices.hwt"}) {
        INFO(name);
        const std::filesystem::path p = std::filesystem::path(data) / name;
        REQUIRE(std::filesystem::exists(p));
        CHECK(check_both_ways(p, 1'000'000) > 10);
    }
}
