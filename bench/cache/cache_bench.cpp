// Cache throughput against the plain baseline a user would write first: std::list +
// std::unordered_map + one std::mutex, byte-bounded, returning owned copies like heapwise.
// get hit, get miss and set-with-eviction on 1 and 2 threads, and hit ratio on a Zipf workload.
// GetSharedHit: heapwise's get_shared (a refcounted handle, no copy) and the baseline storing
// std::shared_ptr<const std::string> (a pointer copy under its mutex).
// Keys are URL-like (~40 bytes), values 128 bytes, 10k or 100k live entries, random access.
#include <benchmark/benchmark.h>

#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "baseline_lru.hpp"
#include "bench_rng.hpp"
#include "heapwise/cache.hpp"

using namespace heapwise::literals;

namespace {

using heapwise_bench::BaselineLru;
using heapwise_bench::BaselineSharedLru;

constexpr std::size_t kKeys = 100'000;
constexpr std::size_t kValue = 128;

const std::vector<std::string>& keys() {
    static const std::vector<std::string> k = [] {
        std::vector<std::string> v;
        for (std::size_t i = 0; i < 2 * kKeys; ++i) {
            v.push_back("https://shop.example.com/item/" + std::to_string(i * 7919 % 1000003));
        }
        return v;
    }();
    return k;
}

const std::string& value() {
    static const std::string v(kValue, 'v');
    return v;
}

// Caches filled with keys()[0..n) for n = 10k (fits in L2/L3: CPU-bound) and 100k (DRAM-bound);
// keys()[kKeys..] are never stored (misses). Built once, before any thread times anything.
template <class Cache, class Make>
Cache& filled(std::size_t n, Make make) {
    static std::mutex mu;
    static std::vector<std::pair<std::size_t, Cache*>> made;
    std::lock_guard lk(mu);
    for (auto& [size, c] : made) {
        if (size == n) return *c;
    }
    Cache* c = make();
    for (std::size_t i = 0; i < n; ++i) c->set(keys()[i], std::string(value()));
    made.emplace_back(n, c);
    return *c;
}

heapwise::Cache& heapwise_full(std::size_t n) {
    return filled<heapwise::Cache>(n, [] { return new heapwise::Cache({.max_memory = 256_MiB, .max_disk = 0}); });
}
BaselineLru& baseline_full(std::size_t n) {
    return filled<BaselineLru>(n, [] { return new BaselineLru(256_MiB); });
}
BaselineSharedLru& baseline_shared_full(std::size_t n) {
    return filled<BaselineSharedLru>(n, [] { return new BaselineSharedLru(256_MiB); });
}

template <class Cache, class Get>
void run_gets(benchmark::State& state, Cache& cache, std::size_t offset, Get get) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Rng rng{0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(state.thread_index() + 1)};
    const auto& k = keys();
    for (auto _ : state) benchmark::DoNotOptimize(get(cache, k[offset + rng.below(n)]));
    state.SetItemsProcessed(state.iterations());
}

void BM_GetHit_Heapwise(benchmark::State& state) {
    auto& c = heapwise_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, 0, [](heapwise::Cache& c, const std::string& key) { return c.get(key); });
}
void BM_GetHit_Baseline(benchmark::State& state) {
    auto& c = baseline_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, 0, [](BaselineLru& c, const std::string& key) { return c.get(key); });
}
void BM_GetSharedHit_Heapwise(benchmark::State& state) {
    auto& c = heapwise_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, 0, [](heapwise::Cache& c, const std::string& key) { return c.get_shared(key); });
}
void BM_GetSharedHit_Baseline(benchmark::State& state) {
    auto& c = baseline_shared_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, 0, [](BaselineSharedLru& c, const std::string& key) { return c.get(key); });
}
void BM_GetMiss_Heapwise(benchmark::State& state) {
    auto& c = heapwise_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, kKeys, [](heapwise::Cache& c, const std::string& key) { return c.get(key); });
}
void BM_GetMiss_Baseline(benchmark::State& state) {
    auto& c = baseline_full(static_cast<std::size_t>(state.range(0)));
    run_gets(state, c, kKeys, [](BaselineLru& c, const std::string& key) { return c.get(key); });
}

// A cache that holds about 50k of the 200k keys: nearly every set evicts.
constexpr std::size_t kEvictBudget = 50'000 * (kValue + 2 * 40 + 96);

void BM_SetEvict_Heapwise(benchmark::State& state) {
    static heapwise::Cache* cache = new heapwise::Cache({.max_memory = kEvictBudget, .max_disk = 0});
    Rng rng{0x1234567ull * static_cast<std::uint64_t>(state.thread_index() + 1)};
    const auto& k = keys();
    for (auto _ : state) cache->set(k[rng.below(k.size())], std::string_view(value()));
    state.SetItemsProcessed(state.iterations());
}
void BM_SetEvict_Baseline(benchmark::State& state) {
    static BaselineLru* cache = new BaselineLru(kEvictBudget);
    Rng rng{0x1234567ull * static_cast<std::uint64_t>(state.thread_index() + 1)};
    const auto& k = keys();
    for (auto _ : state) cache->set(k[rng.below(k.size())], value());
    state.SetItemsProcessed(state.iterations());
}

// Zipf(0.99) over 200k keys, a cache holding ~10 % of them; get, and set on a miss.
std::vector<std::uint32_t> zipf_trace(std::size_t n) {
    const std::size_t universe = keys().size();
    std::vector<double> cdf(universe);
    double sum = 0;
    for (std::size_t i = 0; i < universe; ++i) cdf[i] = (sum += 1.0 / std::pow(double(i + 1), 0.99));
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0, sum);
    std::vector<std::uint32_t> out(n);
    for (auto& x : out) x = static_cast<std::uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    return out;
}

template <class Cache, class Get, class Set>
void run_zipf(benchmark::State& state, Cache& cache, Get get, Set set) {
    static const std::vector<std::uint32_t> trace = zipf_trace(1'000'000);
    std::size_t hits = 0, total = 0;
    for (auto _ : state) {
        for (std::uint32_t i : trace) {
            const std::string& key = keys()[i];
            if (get(cache, key)) {
                ++hits;
            } else {
                set(cache, key);
            }
        }
        total += trace.size();
    }
    state.counters["hit_ratio"] = double(hits) / double(total);
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
}

constexpr std::size_t kZipfBudget = 20'000 * (kValue + 2 * 40 + 96);

void BM_ZipfHitRatio_Heapwise(benchmark::State& state) {
    heapwise::Cache cache({.max_memory = kZipfBudget, .max_disk = 0});
    run_zipf(state, cache, [](heapwise::Cache& c, const std::string& k) { return c.get(k).has_value(); },
             [](heapwise::Cache& c, const std::string& k) { c.set(k, std::string_view(value())); });
    state.counters["entries"] = double(cache.stats().memory_items);
}
void BM_ZipfHitRatio_Baseline(benchmark::State& state) {
    BaselineLru cache(kZipfBudget);
    run_zipf(state, cache, [](BaselineLru& c, const std::string& k) { return c.get(k).has_value(); },
             [](BaselineLru& c, const std::string& k) { c.set(k, value()); });
}

}  // namespace

BENCHMARK(BM_GetHit_Heapwise)->Arg(10'000)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GetHit_Baseline)->Arg(10'000)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GetSharedHit_Heapwise)->Arg(10'000)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GetSharedHit_Baseline)->Arg(10'000)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GetMiss_Heapwise)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GetMiss_Baseline)->Arg(kKeys)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_SetEvict_Heapwise)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_SetEvict_Baseline)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_ZipfHitRatio_Heapwise)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ZipfHitRatio_Baseline)->Iterations(1)->Unit(benchmark::kMillisecond);
