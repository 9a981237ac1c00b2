// Per-operation cost of heapwise::Cache and the baseline LRU in instructions and simulated cache
// misses, for a machine too loaded for wall-clock figures. Run it under valgrind twice, with n
// operations and with 0, and divide the difference by n (the fill and setup cancel out):
//   for n in 0 200000; do valgrind --tool=cachegrind --cache-sim=yes
//       --cachegrind-out-file=/dev/null build/bench/cache/cache_count heapwise hit100k $n
//       2>&1 | grep -E 'I +refs|D1 +misses|LLd misses'; done   (one line)
// Cases: hit10k, hit100k (get of a present key among 10k / 100k), miss (absent key, 100k held),
// setevict (set of a random key among 200k into a cache holding ~50k: nearly every set evicts).
// Same keys, values and random order as cache_bench.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "baseline_lru.hpp"
#include "bench_rng.hpp"
#include "heapwise/cache.hpp"

namespace {

constexpr std::size_t kValue = 128;
constexpr std::size_t kUniverse = 200'000;
constexpr std::size_t kEvictBudget = 50'000 * (kValue + 2 * 40 + 96);

template <class C>
std::size_t run(C& cache, const std::vector<std::string>& keys, std::string_view op,
                std::size_t n, std::size_t held) {
    const std::string value(kValue, 'v');
    for (std::size_t i = 0; i < held; ++i) cache.set(keys[i], std::string(value));
    Rng rng{0x9E3779B97F4A7C15ull};
    std::size_t found = 0;
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
        std::fprintf(stderr, "usage: cache_count heapwise|baseline hit10k|hit100k|miss|setevict N\n");
        return 2;
    }
    const std::string_view impl = argv[1], op = argv[2];
    const std::size_t n = std::strtoull(argv[3], nullptr, 10);
    if ((impl != "heapwise" && impl != "baseline") ||
        (op != "hit10k" && op != "hit100k" && op != "miss" && op != "setevict")) {
        std::fprintf(stderr, "cache_count: unknown implementation or case\n");
        return 2;
    }
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < kUniverse; ++i) {
        keys.push_back("https://shop.example.com/item/" + std::to_string(i * 7919 % 1000003));
    }
    const std::size_t held = op == "hit10k" ? 10'000 : op == "setevict" ? 0 : 100'000;
    const std::size_t budget = op == "setevict" ? kEvictBudget : std::size_t{256} << 20;
    std::size_t r = 0;
    if (impl == "heapwise") {
        heapwise::Cache cache({.max_memory = budget, .max_disk = 0});
        r = run(cache, keys, op, n, held);
    } else {
        heapwise_bench::BaselineLru cache(budget);
        r = run(cache, keys, op, n, held);
    }
    std::printf("%s %s n=%zu result=%zu\n", argv[1], argv[2], n, r);
    return 0;
}
