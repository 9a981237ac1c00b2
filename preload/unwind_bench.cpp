// Cost of one stack capture per backend at depths 8, 32 and 64 frames: plain unw_backtrace,
// the frame-pointer walk, and the cached backend (same call site each time, its best case, and
// a rotating leaf that defeats the cache). Built with frame pointers so all three can run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>

#include "unwind.hpp"

namespace hp = heapwise::preload;

namespace {

using Fn = int (*)(std::span<std::uintptr_t>, int);
std::uintptr_t g_frames[1024];

[[gnu::noinline]] int leaf(Fn fn) {
    const int r = fn(std::span(g_frames, 1024), 0);
    asm volatile("" ::: "memory");
    return r;
}

[[gnu::noinline]] int descend(int depth, Fn fn) {
    if (depth <= 1) return leaf(fn);
    const int r = descend(depth - 1, fn);
    benchmark::DoNotOptimize(r);
    return r;
}

// Alternating between a one- and a two-frame leaf below the same chain: the program's call site
// moves every time, the cached backend's miss case. The asm keeps the calls from being tail calls.
[[gnu::noinline]] int leaf_a(Fn fn) {
    const int r = leaf(fn);
    asm volatile("" ::: "memory");
    return r;
}
[[gnu::noinline]] int leaf_b(Fn fn) {
    const int r = leaf_a(fn);
    asm volatile("" ::: "memory");
    return r;
}
[[gnu::noinline]] int descend_alternating(int depth, Fn fn, bool b) {
    if (depth <= 1) return b ? leaf_b(fn) : leaf_a(fn);
    const int r = descend_alternating(depth - 1, fn, b);
    benchmark::DoNotOptimize(r);
    return r;
}

template <Fn F>
void BM_capture(benchmark::State& state) {
    const int depth = static_cast<int>(state.range(0));
    int n = 0;
    for (auto _ : state) n = descend(depth, F);
    state.counters["frames"] = n;
}

template <Fn F>
void BM_capture_alternating(benchmark::State& state) {
    const int depth = static_cast<int>(state.range(0));
    bool b = false;
    int n = 0;
    for (auto _ : state) {
        n = descend_alternating(depth, F, b);
        b = !b;
    }
    state.counters["frames"] = n;
}

}  // namespace

BENCHMARK(BM_capture<hp::capture_libunwind>)->Arg(8)->Arg(32)->Arg(64);
BENCHMARK(BM_capture<hp::capture_frame_pointer>)->Arg(8)->Arg(32)->Arg(64);
BENCHMARK(BM_capture<hp::capture_cached>)->Arg(8)->Arg(32)->Arg(64);
BENCHMARK(BM_capture_alternating<hp::capture_libunwind>)->Arg(8)->Arg(32)->Arg(64);
BENCHMARK(BM_capture_alternating<hp::capture_cached>)->Arg(8)->Arg(32)->Arg(64);

BENCHMARK_MAIN();
