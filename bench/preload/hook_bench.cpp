// The tracer's added cost per malloc+free pair, without LD_PRELOAD: the untraced pair against the
// same pair followed by what a hook does (Tracer::record_alloc / record_free: stack capture,
// interning, ring push; the writer thread drains, encodes and compresses into a real file), at
// stack depths 8, 32 and 64 (recursion to that depth before the loop), with 1 and 2 threads, for
// each unwinder. compare.sh --hook turns the output into ns per pair and ratios.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tracer.hpp"

namespace hp = heapwise::preload;
using heapwise::format::AllocFn;
using heapwise::format::FreeFn;
using heapwise::format::Unwinder;

namespace {

constexpr std::size_t kSize = 64;

std::string trace_path() { return "/tmp/heapwise-hook-bench-" + std::to_string(getpid()) + ".hwt"; }

// The loop at the bottom of the recursion, so every captured stack holds `depth` extra frames.
template <bool kTraced>
[[gnu::noinline]] void pairs(benchmark::State& state) {
    for (auto _ : state) {
        void* p = std::malloc(kSize);
        benchmark::DoNotOptimize(p);
        if constexpr (kTraced) {
            hp::Tracer::record_alloc(p, kSize, AllocFn::kMalloc);
            hp::Tracer::record_free(p, FreeFn::kFree);
        }
        std::free(p);
    }
}

template <bool kTraced>
[[gnu::noinline]] void descend(benchmark::State& state, int depth) {
    if (depth <= 0) {
        pairs<kTraced>(state);
    } else {
        descend<kTraced>(state, depth - 1);
    }
    benchmark::ClobberMemory();  // keeps the frame: no tail call
}

void start_tracing(const benchmark::State& state) {
    hp::Options o;
    o.unwinder = static_cast<Unwinder>(state.range(1));
    o.depth = 64;
    o.snapshot_every_ns = 0;
    if (!hp::Tracer::start(o, trace_path().c_str())) {
        std::fprintf(stderr, "hook_bench: cannot start the tracer\n");
        std::exit(1);
    }
}

void stop_tracing(const benchmark::State&) {
    hp::Tracer::stop(heapwise::format::EndReason::kExit);
    std::remove(trace_path().c_str());
}

void BM_pair_untraced(benchmark::State& state) {
    descend<false>(state, static_cast<int>(state.range(0)));
    state.SetItemsProcessed(state.iterations());
}

void BM_pair_traced(benchmark::State& state) {
    descend<true>(state, static_cast<int>(state.range(0)));
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(state.range(1) == static_cast<int>(Unwinder::kLibunwindCached) ? "cached"
                   : state.range(1) == static_cast<int>(Unwinder::kLibunwind) ? "libunwind"
                                                                               : "fp");
}

}  // namespace

BENCHMARK(BM_pair_untraced)->ArgName("depth")->Arg(8)->Arg(32)->Arg(64)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_pair_traced)
    ->ArgNames({"depth", "unwinder"})
    ->ArgsProduct({{8, 32, 64},
                   {static_cast<int>(Unwinder::kLibunwindCached), static_cast<int>(Unwinder::kLibunwind),
                    static_cast<int>(Unwinder::kFramePointer)}})
    ->Setup(start_tracing)
    ->Teardown(stop_tracing)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
