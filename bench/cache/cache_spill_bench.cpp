// Spill and reload latency percentiles (p50, p99) for 4 KiB and 1 MiB values: set with
// force_disk (checksummed write to a temporary file and rename), then get of that entry (read,
// verify; a 4 KiB value is promoted back to memory, a 1 MiB one stays on disk because the
// budget is 64 KiB). Files live under $TMPDIR or /tmp; reads hit the page cache.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "heapwise/cache.hpp"

using namespace heapwise::literals;

namespace {

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

void BM_SpillReload(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    heapwise::Cache cache({.max_memory = 64_KiB, .max_disk = 1_GiB});
    const std::string value(n, 's');
    std::vector<double> spill_us, reload_us;
    std::size_t i = 0;
    for (auto _ : state) {
        const std::string key = "https://example.com/blob/" + std::to_string(i++ % 64);
        auto t0 = std::chrono::steady_clock::now();
        cache.set(key, std::string_view(value), {.force_disk = true});
        auto t1 = std::chrono::steady_clock::now();
        auto v = cache.get(key);
        auto t2 = std::chrono::steady_clock::now();
        if (!v || v->size() != n) state.SkipWithError("reload failed");
        spill_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        reload_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    state.counters["spill_p50_us"] = percentile(spill_us, 0.50);
    state.counters["spill_p99_us"] = percentile(spill_us, 0.99);
    state.counters["reload_p50_us"] = percentile(reload_us, 0.50);
    state.counters["reload_p99_us"] = percentile(reload_us, 0.99);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * 2));
}

}  // namespace

BENCHMARK(BM_SpillReload)->Arg(4096)->Iterations(4000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SpillReload)->Arg(1 << 20)->Iterations(300)->Unit(benchmark::kMicrosecond);
