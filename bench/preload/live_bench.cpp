// The cost of one live snapshot (tracer_live.h) against the number of distinct stacks: 1,000,
// 10,000 and 100,000 stacks, each holding one live block, built by a binary call tree 17 levels
// deep (each leaf's stack differs from every other). BM_live_snapshot is the whole call through
// the tracer (marker, wait for the writer, copy, release); BM_aggregator_snapshot only the
// writer's copy of the per-stack figures into a fresh mapping. Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "live.hpp"
#include "live_map.hpp"
#include "tracer.hpp"

namespace hp = heapwise::preload;
using heapwise::format::AllocFn;

namespace {

constexpr int kLevels = 17;  // 131,072 leaves: more distinct stacks than the largest case

std::vector<void*> g_blocks;

// Descends kLevels levels, taking branch (path >> level) & 1 at each: leaf `path` has a stack of
// its own. Allocates one live block there, recorded as a hook would.
template <int kBranch>
[[gnu::noinline]] void descend(unsigned path, int level);

[[gnu::noinline]] void leaf() {
    void* p = std::malloc(48);
    hp::Tracer::record_alloc(p, 48, AllocFn::kMalloc);
    g_blocks.push_back(p);
}

template <int kBranch>
[[gnu::noinline]] void descend(unsigned path, int level) {
    if (level == kLevels) {
        leaf();
    } else if (((path >> level) & 1) == 0) {
        descend<0>(path, level + 1);
    } else {
        descend<1>(path, level + 1);
    }
    benchmark::ClobberMemory();  // keeps the frame: no tail call
}

// One tracing session with `stacks` distinct stacks live, for the benchmark's lifetime.
struct Session {
    std::string path = "/tmp/heapwise-live-bench-" + std::to_string(getpid()) + ".hwt";
    explicit Session(unsigned stacks) {
        hp::Options o;
        o.live = true;
        o.rss_interval_ns = 0;
        o.unwinder = heapwise::format::Unwinder::kFramePointer;
        if (!hp::Tracer::start(o, path.c_str())) std::abort();
        for (unsigned i = 0; i < stacks; ++i) descend<0>(i, 0);
    }
    ~Session() {
        hp::Tracer::stop(heapwise::format::EndReason::kExit);
        for (void* p : g_blocks) std::free(p);
        g_blocks.clear();
        std::remove(path.c_str());
    }
};

void BM_live_snapshot(benchmark::State& state) {
    const Session session(static_cast<unsigned>(state.range(0)));
    heapwise_live_snapshot warm{};
    if (hp::live_snapshot("warm", &warm) != 0) std::abort();  // the writer has seen every stack
    const std::uint64_t sites = warm.nsites;
    hp::live_release(&warm);
    for (auto _ : state) {
        heapwise_live_snapshot s{};
        if (hp::live_snapshot("bench", &s) != 0) std::abort();
        benchmark::DoNotOptimize(s.sites);
        hp::live_release(&s);
    }
    state.counters["sites"] = static_cast<double>(sites);
}
BENCHMARK(BM_live_snapshot)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_aggregator_snapshot(benchmark::State& state) {
    hp::LiveAggregator agg;
    agg.reset(0, 0);
    hp::LivePending pending;
    const auto stacks = static_cast<std::uint32_t>(state.range(0));
    for (std::uint32_t id = 1; id <= stacks; ++id) agg.on_alloc(pending, 0x10000 + id * 64ull, 48, id);
    for (auto _ : state) {
        heapwise_live_snapshot s{};
        if (!agg.snapshot(s)) std::abort();
        benchmark::DoNotOptimize(s.sites);
        hp::live_release_sites(s);
    }
    agg.destroy();
}
BENCHMARK(BM_aggregator_snapshot)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
