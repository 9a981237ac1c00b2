// The one live-heap core (analyzer/replay/live_heap.hpp) behind stats, the report's replay and the
// timeline: on a random churn (reallocs that fail, frees of unknown addresses, an internal stack,
// many threads and stacks, sampled or not) the peak kept on the fly equals a capture at the peak's
// position by a second replay; StatsBuilder and the timeline give the replay's figures exactly;
// AddrMap::take is erase() handing out the value.
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>
#include <variant>
#include <vector>

#include "analyzer/replay/addr_map.hpp"
#include "analyzer/replay/heap_replay.hpp"
#include "analyzer/timeline/timeline.hpp"
#include "analyzer/trace_stats.hpp"
#include "snapshot_checks.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;

namespace {

constexpr StackId kInternal{7};
using Op = std::variant<Alloc, Free, ReallocFailed>;

// Times rise by one per event; addresses are reused so frees, reallocs and collisions happen.
std::vector<Op> random_ops(std::uint64_t seed, int n) {
    std::mt19937_64 rng(seed);
    std::vector<Op> ops;
    std::vector<std::uint64_t> live;
    std::uint64_t t = 0;
    for (int i = 0; i < n; ++i) {
        const ThreadId thread{static_cast<std::uint32_t>(rng() % 4)};
        const unsigned op = static_cast<unsigned>(rng() % 100);
        // A slow wave in the odds of allocating, so the heap rises and falls to several peaks.
        const unsigned alloc_odds = (i / 2000) % 2 == 0 ? 60 : 35;
        if (op < alloc_odds || live.empty()) {
            const std::uint64_t addr = 0x1000 + (rng() % 6000) * 32;
            const auto stack = StackId{static_cast<std::uint32_t>(1 + rng() % 40)};
            ops.emplace_back(Alloc{++t, thread, addr, 16 + rng() % 3000, stack, AllocFn::kMalloc});
            live.push_back(addr);
        } else if (op < 95) {
            const std::size_t k = rng() % live.size();
            const std::uint64_t addr = op < 93 ? live[k] : 0x999000 + rng() % 64;  // some unknown
            const bool realloc = op % 7 == 0;
            ops.emplace_back(Free{++t, thread, addr, realloc ? FreeFn::kRealloc : FreeFn::kFree});
            if (realloc && rng() % 2 == 0) ops.emplace_back(ReallocFailed{++t, thread, addr});
            live[k] = live.back();
            live.pop_back();
        } else {
            ops.emplace_back(Free{++t, thread, 0, FreeFn::kFree});
        }
    }
    return ops;
}

template <class Visitor>
void feed(Visitor& v, const std::vector<Op>& ops, std::uint64_t interval) {
    ProcessInfo info;
    info.mode = interval != 0 ? Mode::kSampled : Mode::kLossless;
    info.sample_interval = interval;
    v.on_process_info(info);
    v.on_internal_stack(InternalStack{kInternal});
    for (const Op& op : ops) {
        std::visit([&v](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, Alloc>) v.on_alloc(e);
            else if constexpr (std::is_same_v<E, Free>) v.on_free(e);
            else v.on_realloc_failed(e);
        }, op);
    }
}

}  // namespace

TEST_CASE("the peak kept on the fly equals a capture at the peak's position", "[replay]") {
    const std::uint64_t interval = GENERATE(std::uint64_t{0}, std::uint64_t{2048});
    const std::vector<Op> ops = random_ops(interval + 7, 40000);
    HeapReplay kept(HeapReplay::Detail::kStacksAndPeak);
    feed(kept, ops, interval);
    const ReplayFacts f = kept.facts();
    REQUIRE(f.peak_bytes > 0);
    REQUIRE(f.free_of_unknown > 0);  // the churn does exercise the odd paths
    REQUIRE(f.temporary > 0);

    HeapReplay second;
    std::optional<Snapshot> captured;
    second.set_stop_hook(
        [&](const HeapReplay& r, std::uint64_t) {
            captured = r.snapshot("peak");
            return HeapReplay::Stop{};
        },
        HeapReplay::Stop{f.peak_position, HeapReplay::kNever});
    feed(second, ops, interval);
    REQUIRE(captured.has_value());
    const Snapshot peak = kept.peak_snapshot("peak");
    CHECK(peak.live_bytes == f.peak_bytes);
    CHECK(peak.estimated == (interval != 0));
    require_same(peak, *captured);
    // The stacks that allocated only after the peak are not in it.
    CHECK(peak.stacks.size() <= kept.snapshot("end").stacks.size());
}

TEST_CASE("stats and the timeline give the replay's figures, internal stack left out", "[replay]") {
    const std::vector<Op> ops = random_ops(99, 30000);
    HeapReplay replay(HeapReplay::Detail::kTotals);
    feed(replay, ops, 0);
    StatsBuilder stats;
    feed(stats, ops, 0);
    TimelineBuilder timeline;
    feed(timeline, ops, 0);
    const ReplayFacts f = replay.facts();
    const TraceStats s = stats.stats();
    const Timeline t = timeline.finish();
    CHECK(s.allocs == f.allocs);
    CHECK(s.frees == f.frees);
    CHECK(s.bytes_allocated == f.bytes_allocated);
    CHECK(s.peak_live_bytes == f.peak_bytes);
    CHECK(s.peak_live_blocks == f.peak_count);
    CHECK(s.peak_time_ns == f.peak_time_ns);
    CHECK(s.live_bytes == f.end_bytes);
    CHECK(s.live_blocks == f.end_count);
    CHECK(s.free_of_unknown == f.free_of_unknown);
    CHECK(s.alloc_of_live == f.alloc_of_live);
    CHECK(s.realloc_failed_unknown == f.realloc_failed_unknown);
    CHECK(t.peak_bytes == f.peak_bytes);
    CHECK(t.peak_time_ns == f.peak_time_ns);
    CHECK(t.end_bytes == f.end_bytes);

    // The internal stack's blocks are in none of the figures: without its record they count.
    HeapReplay with_internal(HeapReplay::Detail::kTotals);
    ProcessInfo info;
    with_internal.on_process_info(info);
    for (const Op& op : ops) {
        if (const auto* a = std::get_if<Alloc>(&op)) with_internal.on_alloc(*a);
        else if (const auto* fr = std::get_if<Free>(&op)) with_internal.on_free(*fr);
        else with_internal.on_realloc_failed(std::get<ReallocFailed>(op));
    }
    std::uint64_t internal_bytes = 0;
    for (const Op& op : ops) {
        if (const auto* a = std::get_if<Alloc>(&op); a != nullptr && a->stack == kInternal) {
            internal_bytes += a->size;
        }
    }
    REQUIRE(internal_bytes > 0);
    CHECK(with_internal.facts().bytes_allocated == f.bytes_allocated + internal_bytes);
}

TEST_CASE("AddrMap::take removes a key and hands out its value in one probe", "[replay]") {
    AddrMap<std::uint64_t> map;
    std::unordered_map<std::uint64_t, std::uint64_t> ref;
    std::mt19937_64 rng(5);
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t key = (rng() % 2000) * 16;  // 0 included
        if (rng() % 2 == 0) {
            map.try_emplace(key, static_cast<std::uint64_t>(i));
            ref.try_emplace(key, static_cast<std::uint64_t>(i));
        } else {
            std::uint64_t v = 0;
            const auto it = ref.find(key);
            REQUIRE(map.take(key, v) == (it != ref.end()));
            if (it != ref.end()) {
                REQUIRE(v == it->second);
                ref.erase(it);
            }
        }
        REQUIRE(map.size() == ref.size());
    }
    for (const auto& [k, v] : ref) REQUIRE(*map.find(k) == v);
}
