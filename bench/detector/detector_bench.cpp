// take_snapshot + compare_to with 100 000 distinct allocation stacks, in a real process under the
// real tracer (run it with LD_PRELOAD=libheapwise_preload.so HEAPWISE_LIVE=1; without the tracer
// every benchmark reports an error). The stacks are made by 317 generated functions called two
// deep (317^2 > 100 000 distinct call paths), each path ending in one malloc. The detector's
// first compare (by lineno) symbolizes every stack (symbolize_all_ms), the first by each key
// computes the stacks' keys (first_by_key_ms), once per detector; the timed loop is what every
// later take_snapshot + compare_to costs.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "heapwise/leak_detector.hpp"

namespace {

constexpr int kFns = 317;
constexpr int kStacks = 100000;

using Fn = void (*)(int, int);
extern const std::array<Fn, kFns> kTable;
std::vector<void*> g_keep;

template <int I>
[[gnu::noinline]] void hop(int level, int code) {
    if (level == 0) {
        g_keep.push_back(std::malloc(16 + I % 7));
    } else {
        kTable[static_cast<std::size_t>(code % kFns)](level - 1, code / kFns);
    }
    asm volatile("" ::: "memory");  // keeps the call from becoming a tail call
}

template <std::size_t... I>
constexpr std::array<Fn, kFns> make_table(std::index_sequence<I...>) {
    return {&hop<static_cast<int>(I)>...};
}
const std::array<Fn, kFns> kTable = make_table(std::make_index_sequence<kFns>{});

struct World {
    std::unique_ptr<heapwise::LeakDetector> det;
    heapwise::Snapshot base;
    double first_compare_ms = 0;
    std::size_t sites = 0;
    std::string error;
};

World& world() {
    static World w = [] {
        World w;
        try {
            w.det = std::make_unique<heapwise::LeakDetector>();
        } catch (const heapwise::DetectorError& e) {
            w.error = e.what();
            return w;
        }
        g_keep.reserve(kStacks);
        for (int c = 0; c < kStacks; ++c) kTable[static_cast<std::size_t>(c % kFns)](1, c / kFns);
        w.base = w.det->take_snapshot("bench-base");
        const auto t0 = std::chrono::steady_clock::now();
        heapwise::Snapshot now = w.det->take_snapshot("bench-first");
        benchmark::DoNotOptimize(now.compare_to(w.base, heapwise::By::lineno).size());
        w.first_compare_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        w.sites = now.sites();
        return w;
    }();
    return w;
}

void run(benchmark::State& state, heapwise::By by) {
    World& w = world();
    if (!w.error.empty()) {
        state.SkipWithError(w.error.c_str());
        return;
    }
    // The first grouping by a key computes every stack's key once per detector: timed apart.
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t rows = w.det->take_snapshot("bench-warm").compare_to(w.base, by).size();
    const double first_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (auto _ : state) {
        heapwise::Snapshot now = w.det->take_snapshot("bench");
        rows = now.compare_to(w.base, by).size();
        benchmark::DoNotOptimize(rows);
    }
    state.counters["sites"] = static_cast<double>(w.sites);
    state.counters["rows"] = static_cast<double>(rows);
    state.counters["first_by_key_ms"] = first_ms;
    state.counters["symbolize_all_ms"] = w.first_compare_ms;
}

void take_snapshot_only(benchmark::State& state) {
    World& w = world();
    if (!w.error.empty()) {
        state.SkipWithError(w.error.c_str());
        return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(w.det->take_snapshot("bench").sites());
    state.counters["sites"] = static_cast<double>(w.sites);
}

}  // namespace

BENCHMARK(take_snapshot_only)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, snapshot_compare_traceback, heapwise::By::traceback)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, snapshot_compare_lineno, heapwise::By::lineno)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, snapshot_compare_function, heapwise::By::function)->Unit(benchmark::kMillisecond);
