// The decoder's runs of heap events (HeapBatchVisitor, on_heap_events) against the same visitor
// fed one event at a time: `heapwise stats` (StatsBuilder) and the timeline give exactly the same
// figures both ways, on the golden traces (real programs, markers, several blocks) and on random
// multi-block traces with markers, RSS samples, reallocs and failed ones, frees of NULL, blocks
// that do not fit a table slot, internal stacks (one, then two), sampled weights, records the
// fast path declines (near a block's end, long varints), a bad record mid-block and a block with
// a broken crc. LiveHeap::apply on those runs gives every total of alloc() and free() one by one
// (temporaries included). A recording visitor checks the runs arrive in file order, split at
// every other kind of record.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "analyzer/replay/live_heap.hpp"
#include "analyzer/timeline/timeline.hpp"
#include "analyzer/trace_reader.hpp"
#include "analyzer/trace_stats.hpp"
#include "random_trace.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::random_trace;

static_assert(HeapBatchVisitor<StatsBuilder>);
static_assert(HeapBatchVisitor<TimelineBuilder>);
static_assert(!HeapBatchVisitor<EventVisitor>);

namespace {

void require_same(const LiveTotals& a, const LiveTotals& b) {
    CHECK(a.allocs == b.allocs);
    CHECK(a.frees == b.frees);
    CHECK(a.bytes_allocated == b.bytes_allocated);
    CHECK(a.temporary == b.temporary);
    CHECK(a.live_bytes == b.live_bytes);
    CHECK(a.live_count == b.live_count);
    CHECK(a.peak_bytes == b.peak_bytes);
    CHECK(a.peak_count == b.peak_count);
    CHECK(a.peak_time_ns == b.peak_time_ns);
    CHECK(a.free_of_unknown == b.free_of_unknown);
    CHECK(a.alloc_of_live == b.alloc_of_live);
    CHECK(a.realloc_failed_unknown == b.realloc_failed_unknown);
}

void require_same(const TraceStats& a, const TraceStats& b) {
    CHECK(a.records == b.records);
    CHECK(a.events == b.events);
    CHECK(a.allocs == b.allocs);
    CHECK(a.allocs_by_fn == b.allocs_by_fn);
    CHECK(a.frees == b.frees);
    CHECK(a.frees_by_fn == b.frees_by_fn);
    CHECK(a.frees_null == b.frees_null);
    CHECK(a.reallocs == b.reallocs);
    CHECK(a.realloc_failed == b.realloc_failed);
    CHECK(a.bytes_allocated == b.bytes_allocated);
    CHECK(a.peak_live_bytes == b.peak_live_bytes);
    CHECK(a.peak_live_blocks == b.peak_live_blocks);
    CHECK(a.peak_time_ns == b.peak_time_ns);
    CHECK(a.live_bytes == b.live_bytes);
    CHECK(a.live_blocks == b.live_blocks);
    CHECK(a.markers == b.markers);
    CHECK(a.marker_labels == b.marker_labels);
    CHECK(a.rss_samples == b.rss_samples);
    CHECK(a.max_rss_bytes == b.max_rss_bytes);
    CHECK(a.duration_ns == b.duration_ns);
    CHECK(a.free_of_unknown == b.free_of_unknown);
    CHECK(a.alloc_of_live == b.alloc_of_live);
    CHECK(a.realloc_failed_unknown == b.realloc_failed_unknown);
}

// Every event as the batched reader delivers it, and the size of each run.
class Recorder final : public EventVisitor {
public:
    std::vector<Event> events;
    std::vector<std::size_t> runs;
    void on_heap_events(std::span<const HeapEvent> run) {
        runs.push_back(run.size());
        for (const HeapEvent& e : run) {
            if (e.is_alloc) {
                events.emplace_back(e.as_alloc());
            } else {
                events.emplace_back(e.as_free());
            }
        }
    }
    void on_process_info(const ProcessInfo& e) override { events.emplace_back(e); }
    void on_stack(const StackDef& e) override { events.emplace_back(e); }
    void on_alloc(const Alloc& e) override { events.emplace_back(e); }
    void on_free(const Free& e) override { events.emplace_back(e); }
    void on_realloc_failed(const ReallocFailed& e) override { events.emplace_back(e); }
    void on_marker(const Marker& e) override { events.emplace_back(e); }
    void on_rss(const Rss& e) override { events.emplace_back(e); }
    void on_end(const End& e) override { events.emplace_back(e); }
};

// Two LiveHeaps fed side by side by the batched reader: one through apply() on each run, the
// other through alloc() and free() one event at a time; the rest (failed reallocs, internal
// stacks, sampling) reaches both alike. after() must see each event's live bytes.
class TwoHeaps final : public EventVisitor {
public:
    explicit TwoHeaps(bool per_stack) : batched(per_stack), one_by_one(per_stack) {}
    LiveHeap batched;
    LiveHeap one_by_one;
    std::uint64_t runs = 0;
    std::uint64_t after_mismatches = 0;

    void on_heap_events(std::span<const HeapEvent> run) {
        ++runs;
        std::size_t i = 0;
        batched.apply(run, [&](const HeapEvent& e, std::uint64_t live_bytes) {
            if (&e != &run[i]) ++after_mismatches;
            const HeapEvent& x = run[i++];
            if (x.is_alloc) {
                one_by_one.alloc(x.as_alloc());
            } else {
                one_by_one.free(x.as_free());
            }
            if (live_bytes != one_by_one.totals().live_bytes) ++after_mismatches;
        });
        if (i != run.size()) ++after_mismatches;
    }
    void on_process_info(const ProcessInfo& e) override {
        if (e.mode != Mode::kSampled || e.sample_interval == 0) return;
        batched.set_sample_interval(e.sample_interval);
        one_by_one.set_sample_interval(e.sample_interval);
    }
    void on_internal_stack(const InternalStack& e) override {
        batched.add_internal(e.stack);
        one_by_one.add_internal(e.stack);
    }
    void on_alloc(const Alloc& e) override {
        batched.alloc(e);
        one_by_one.alloc(e);
    }
    void on_free(const Free& e) override {
        batched.free(e);
        one_by_one.free(e);
    }
    void on_realloc_failed(const ReallocFailed& e) override {
        batched.realloc_failed(e);
        one_by_one.realloc_failed(e);
    }
};

bool same_heap_event(const Event& a, const Event& b) {
    if (a.index() != b.index()) return false;
    if (const auto* x = std::get_if<Alloc>(&a)) {
        const auto& y = std::get<Alloc>(b);
        return x->time_ns == y.time_ns && x->thread == y.thread && x->addr == y.addr &&
               x->size == y.size && x->stack == y.stack && x->fn == y.fn;
    }
    if (const auto* x = std::get_if<Free>(&a)) {
        const auto& y = std::get<Free>(b);
        return x->time_ns == y.time_ns && x->thread == y.thread && x->addr == y.addr && x->fn == y.fn;
    }
    return true;  // other kinds: their order is what matters here
}

// Reads path both ways and requires the same stats, timeline and summary; returns the runs seen.
std::size_t check_both_ways(const std::filesystem::path& path) {
    StatsBuilder one_by_one;
    StatsBuilder batched;
    const ReadSummary s1 = TraceReader(path).read(one_by_one);  // EventVisitor&: one call per event
    const ReadSummary s2 = TraceReader(path).read_with(batched);
    CHECK(s1.records == s2.records);
    CHECK(s1.blocks == s2.blocks);
    CHECK(s1.damaged == s2.damaged);
    require_same(one_by_one.stats(), batched.stats());

    TimelineBuilder t1;
    TimelineBuilder t2;
    TraceReader(path).read(t1);
    TraceReader(path).read_with(t2);
    const Timeline a = t1.finish();
    const Timeline b = t2.finish();
    CHECK(timeline_csv(a) == timeline_csv(b));
    CHECK(a.heap_events == b.heap_events);
    CHECK(a.peak_bytes == b.peak_bytes);
    CHECK(a.peak_time_ns == b.peak_time_ns);
    CHECK(a.end_bytes == b.end_bytes);

    Recorder rec;
    TraceReader(path).read_with(rec);
    const TraceContents all = read_all(path);
    std::vector<Event> expected;
    for (const Event& e : all.events) {
        if (std::holds_alternative<ProcessInfo>(e) || std::holds_alternative<StackDef>(e) ||
            std::holds_alternative<Alloc>(e) || std::holds_alternative<Free>(e) ||
            std::holds_alternative<ReallocFailed>(e) || std::holds_alternative<Marker>(e) ||
            std::holds_alternative<Rss>(e) || std::holds_alternative<End>(e)) {
            expected.push_back(e);
        }
    }
    REQUIRE(rec.events.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(same_heap_event(rec.events[i], expected[i]));
    for (const std::size_t n : rec.runs) REQUIRE((n >= 1 && n <= kHeapBatch));
    return rec.runs.size();
}

}  // namespace

TEST_CASE("heap batches: random multi-block traces give the same stats and timeline both ways",
          "[reader][batch]") {
    for (const bool damage : {false, true}) {
        for (const std::uint64_t seed : {11u, 12u, 13u}) {
            test::TempDir dir;
            test::write_file(dir / "r.hwt", random_trace(seed, 7, {.damage = damage}));
            if (damage) {
                TraceReader reader(dir / "r.hwt");
                StatsBuilder s;
                CHECK(reader.read_with(s).damaged == 2);  // the bad record and the broken crc
            }
            CHECK(check_both_ways(dir / "r.hwt") > 7);
        }
    }
}

TEST_CASE("heap batches: the golden traces give the same stats and timeline both ways",
          "[reader][batch]") {
    const char* data = std::getenv("HEAPWISE_TEST_DATA");
    REQUIRE(data != nullptr);
    int traces = 0;
    for (const char* name : {"scraper.hwt", "scraper-80.hwt", "scraper-sampled.hwt", "scraper-slices.hwt"}) {
        const std::filesystem::path p = std::filesystem::path(data) / name;
        REQUIRE(std::filesystem::exists(p));
        CHECK(check_both_ways(p) > 0);
        ++traces;
    }
    CHECK(traces == 4);
}

TEST_CASE("heap batches: internal stacks and sampled weights give the same figures both ways",
          "[reader][batch]") {
    for (const int internal : {0, 1, 2}) {
        for (const std::uint64_t sampled : {std::uint64_t{0}, std::uint64_t{4096}}) {
            test::TempDir dir;
            test::write_file(dir / "r.hwt", random_trace(21 + static_cast<std::uint64_t>(internal), 7,
                                                         {.internal = internal, .sampled = sampled}));
            CHECK(check_both_ways(dir / "r.hwt") > 7);
            StatsBuilder s;
            TraceReader(dir / "r.hwt").read_with(s);
            CHECK(s.stats().frees_null > 0);
            CHECK(s.stats().realloc_failed > 0);
        }
    }
}

TEST_CASE("heap batches: LiveHeap::apply gives every total of alloc() and free() one by one",
          "[reader][batch]") {
    int traces = 0;
    for (const bool per_stack : {false, true}) {
        for (const int internal : {0, 1, 2}) {
            for (const std::uint64_t sampled : {std::uint64_t{0}, std::uint64_t{4096}}) {
                for (const bool damage : {false, true}) {
                    test::TempDir dir;
                    test::write_file(dir / "r.hwt",
                                     random_trace(31 + static_cast<std::uint64_t>(internal), 7,
                                                  {.damage = damage, .internal = internal, .sampled = sampled}));
                    TwoHeaps heaps(per_stack);
                    TraceReader(dir / "r.hwt").read_with(heaps);
                    CHECK(heaps.runs > 7);
                    CHECK(heaps.after_mismatches == 0);
                    const LiveTotals& a = heaps.batched.totals();
                    require_same(a, heaps.one_by_one.totals());
                    CHECK(a.temporary > 0);
                    CHECK(a.alloc_of_live > 0);  // the random churn reuses live addresses
                    CHECK(a.free_of_unknown > 0);
                    CHECK(a.peak_bytes > 0);
                    if (per_stack) {
                        std::map<StackId, std::vector<std::uint64_t>> x;
                        std::map<StackId, std::vector<std::uint64_t>> y;
                        const auto into = [](auto& m) {
                            return [&m](StackId id, const StackUsage& u) {
                                m[id] = {u.live_bytes, u.live_count, u.allocs, u.bytes_allocated, u.temporary};
                            };
                        };
                        heaps.batched.for_each_stack(into(x));
                        heaps.one_by_one.for_each_stack(into(y));
                        CHECK(x.size() > 20);
                        CHECK(x == y);
                    }
                    ++traces;
                }
            }
        }
    }
    CHECK(traces == 24);
}
