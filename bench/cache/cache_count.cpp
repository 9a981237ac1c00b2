// Per-operation cost of heapwise::Cache and the baseline LRU in instructions and simulated cache
// misses, for a machine too loaded for wall-clock figures. Run it under valgrind twice, with n
// operations and with 0, and divide the difference by n (the fill and setup cancel out):
//   for n in 0 200000; do valgrind --tool=cachegrind --cache-sim=yes
//       --cachegrind-out-file=/dev/null build/bench/cache/cache_count heapwise hit100k $n
//       2>&1 | grep -E 'I +refs|D1 +misses|LLd misses'; done   (one line)
// Implementations: heapwise (get: an owned copy), heapwise_shared (get_shared: a handle),
// baseline (list + map + mutex, copies), baseline_shared (the same storing shared_ptr values).
// Cases: hit10k, hit100k (get of a present key among 10k / 100k), miss (absent key, 100k held),
// setevict (set of a random key among 200k into a cache holding ~50k: nearly every set evicts),
// zipf (cache_bench's Zipf workload: get, set on a miss; 200k accesses warm it first, N <= 1M).
// Same keys, values and random order as cache_bench.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "baseline_lru.hpp"
#include "bench_rng.hpp"
#include "heapwise/cache.hpp"

namespace {

// heapwise::Cache read through get_shared, for the shared-handle cases.
struct SharedReads {
    heapwise::Cache cache;
    std::optional<heapwise::SharedBytes> get(const std::string& key) { return cache.get_shared(key); }
    void set(const std::string& key, std::string value) { cache.set(key, std::string_view(value)); }
};

constexpr std::size_t kValue = 128;
constexpr std::size_t kUniverse = 200'000;
constexpr std::size_t kEvictBudget = 50'000 * (kValue + 2 * 40 + 96);
constexpr std::size_t kZipfBudget = 20'000 * (kValue + 2 * 40 + 96);
constexpr std::size_t kZipfWarm = 200'000, kZipfMax = 1'000'000;

// cache_bench's Zipf(0.99) trace over the 200k keys (same seed), warm-up included.
std::vector<std::uint32_t> zipf_trace() {
    std::vector<double> cdf(kUniverse);
    double sum = 0;
    for (std::size_t i = 0; i < kUniverse; ++i) cdf[i] = (sum += 1.0 / std::pow(double(i + 1), 0.99));
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0, sum);
    std::vector<std::uint32_t> out(kZipfWarm + kZipfMax);
    for (auto& x : out) {
        x = static_cast<std::uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    }
    return out;
}

template <class C>
std::size_t run(C& cache, const std::vector<std::string>& keys, std::string_view op,
                std::size_t n, std::size_t held) {
    const std::string value(kValue, 'v');
    for (std::size_t i = 0; i < held; ++i) cache.set(keys[i], std::string(value));
    Rng rng{0x9E3779B97F4A7C15ull};
    std::size_t found = 0;
    if (op == "zipf") {  // returns the hits among the N measured accesses
        static const std::vector<std::uint32_t> trace = zipf_trace();
        for (std::size_t i = 0; i < kZipfWarm + n; ++i) {
            const std::string& key = keys[trace[i]];
            if (cache.get(key)) {
                found += i >= kZipfWarm ? 1 : 0;
            } else {
                cache.set(key, std::string(value));
            }
        }
        return found;
    }
    if (op == "setevict") {
        for (std::size_t i = 0; i < n; ++i) cache.set(keys[rng.below(kUniverse)], std::string(value));
        return n;
    }
    const std::size_t offset = op == "miss" ? kUniverse / 2 : 0;
    const std::size_t range = op == "hit10k" ? 10'000 : 100'000;
    for (std::size_t i = 0; i < n; ++i) found += cache.get(keys[offset + rng.below(range)]) ? 1 : 0;
    return found;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr,
                     "usage: cache_count heapwise|heapwise_shared|baseline|baseline_shared "
                     "hit10k|hit100k|miss|setevict|zipf N\n");
        return 2;
    }
    const std::string_view impl = argv[1], op = argv[2];
    const std::size_t n = std::strtoull(argv[3], nullptr, 10);
    if ((impl != "heapwise" && impl != "baseline" && impl != "heapwise_shared" &&
         impl != "baseline_shared") ||
        (op != "hit10k" && op != "hit100k" && op != "miss" && op != "setevict" && op != "zipf") ||
        (op == "zipf" && n > kZipfMax)) {
        std::fprintf(stderr, "cache_count: unknown implementation or case\n");
        return 2;
    }
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < kUniverse; ++i) {
        keys.push_back("https://shop.example.com/item/" + std::to_string(i * 7919 % 1000003));
    }
    const std::size_t held = op == "hit10k" ? 10'000 : op == "setevict" || op == "zipf" ? 0 : 100'000;
    const std::size_t budget = op == "setevict" ? kEvictBudget
                               : op == "zipf"   ? kZipfBudget
                                                : std::size_t{256} << 20;
    std::size_t r = 0;
    if (impl == "heapwise") {
        heapwise::Cache cache({.max_memory = budget, .max_disk = 0});
        r = run(cache, keys, op, n, held);
    } else if (impl == "heapwise_shared") {
        SharedReads reads{heapwise::Cache({.max_memory = budget, .max_disk = 0})};
        r = run(reads, keys, op, n, held);
    } else if (impl == "baseline") {
        heapwise_bench::BaselineLru cache(budget);
        r = run(cache, keys, op, n, held);
    } else {
        heapwise_bench::BaselineSharedLru cache(budget);
        r = run(cache, keys, op, n, held);
    }
    std::printf("%s %s n=%zu result=%zu\n", argv[1], argv[2], n, r);
    return 0;
}
