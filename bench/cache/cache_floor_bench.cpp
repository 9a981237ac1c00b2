// The floor of a copying get hit, timed in the same process as BM_GetHit_Baseline with the same
// key picking: the work any get returning an owned copy must do on this workload (the key's
// hash, one 128-byte allocation + memcpy + free, reaching the value), each part alone and summed.
// bench/cache/floor.py turns the CPU times into the floor's share of the baseline's get and the
// best ratio a copying get could reach.
#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_rng.hpp"
#include "cache_hash.hpp"

extern "C" void* __libc_malloc(std::size_t n);  // glibc's own, beside the process's mimalloc
extern "C" void __libc_free(void* p);

namespace {

// Hashes: std::hash (the baseline's unordered_map) and heapwise's hash_key. Allocators: mimalloc,
// and glibc through __libc_malloc/__libc_free (this process's malloc is mimalloc). FloorLoop is
// the driver alone (key pick and DoNotOptimize), which every case here and BM_GetHit_* pay. The
// copy's size class: "Alone" when the copy is its only live block (its page empties on every
// free, as for Cache::get's copy in these benchmarks), "Shared" with one more block of the class
// kept alive (as for the baseline's copy, whose class holds the 10k stored strings).
constexpr std::size_t kValue = 128;

// The same keys as cache_bench.cpp's keys() (URL-like, 33-36 bytes).
const std::vector<std::string>& floor_keys() {
    static const std::vector<std::string> k = [] {
        std::vector<std::string> v;
        for (std::size_t i = 0; i < 100'000; ++i) {
            v.push_back("https://shop.example.com/item/" + std::to_string(i * 7919 % 1000003));
        }
        return v;
    }();
    return k;
}

// Where the value is copied from (Source): one hot buffer (kHot: a floor, a real get reads a
// value it did not just touch); the key's own 256-byte block (kCold: one per key, from mimalloc,
// the value at offset 128 like an entry's inline value), so the copy pays for the value's lines
// but may fetch them while the key's still load; or the block the key's hash picks (kByHash):
// the value's address depends on the key's bytes, as in any hash lookup (one block per key and
// no collisions: a perfect table without the slot array heapwise reads first).
alignas(64) const char g_value[kValue] = {'v'};
const std::vector<char*>& value_blocks() {
    static const std::vector<char*> b = [] {
        std::vector<char*> v;
        for (std::size_t i = 0; i < 100'000; ++i) {
            v.push_back(static_cast<char*>(mi_malloc(256)));
            std::memset(v.back(), 'v', 256);
        }
        return v;
    }();
    return b;
}

struct Mimalloc {
    static void* alloc(std::size_t n) { return mi_malloc(n); }
    static void free(void* p) { mi_free(p); }
};
struct Glibc {
    static void* alloc(std::size_t n) { return __libc_malloc(n); }
    static void free(void* p) { __libc_free(p); }
};

struct NoHash {
    static std::size_t hash(std::string_view k) {
        return reinterpret_cast<std::uintptr_t>(k.data());
    }
};
struct StdHash {
    static std::size_t hash(std::string_view k) { return std::hash<std::string_view>{}(k); }
};
struct HashKey {
    static std::size_t hash(std::string_view k) { return heapwise::api::hash_key(k); }
};

// One "get" of the floor: hash the key (H), then, when A is an allocator, allocate, copy and
// free the 128-byte value (the free at once, as the benchmarks' callers drop the result).
enum class Source { kHot, kCold, kByHash };

template <class H, class A, bool kCopy, bool kNeighbour, Source kSource = Source::kHot>
void BM_Floor(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Rng rng{0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(state.thread_index() + 1)};
    const auto& k = floor_keys();
    const auto& blocks = value_blocks();
    void* neighbour = kCopy && kNeighbour ? A::alloc(kValue) : nullptr;
    for (auto _ : state) {
        const std::size_t i = rng.below(n);
        const std::size_t h = H::hash(k[i]);
        benchmark::DoNotOptimize(h);
        if constexpr (kCopy) {
            const char* src = g_value;
            if constexpr (kSource == Source::kCold) src = blocks[i] + 128;
            if constexpr (kSource == Source::kByHash) {
                // Lemire's multiply-shift reduction of the hash to [0, n): no division.
                const auto wide = static_cast<heapwise::api::HashU128>(h) * n;
                src = blocks[static_cast<std::size_t>(wide >> 64)] + 128;
            }
            void* p = A::alloc(kValue);
            std::memcpy(p, src, kValue);
            benchmark::DoNotOptimize(p);
            benchmark::ClobberMemory();
            A::free(p);
        }
    }
    if (neighbour != nullptr) A::free(neighbour);
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

// Names: BM_Floor<What>/<keys>. Same key ranges as BM_GetHit_* (10k and 100k).
#define HW_FLOOR(name, ...)                                                      \
    BENCHMARK_TEMPLATE(BM_Floor, __VA_ARGS__)                                    \
        ->Name(name)->Arg(10'000)->Arg(100'000)->Threads(1)->UseRealTime()
HW_FLOOR("BM_FloorLoop", NoHash, Mimalloc, false, false);
HW_FLOOR("BM_FloorStdHash", StdHash, Mimalloc, false, false);
HW_FLOOR("BM_FloorHashKey", HashKey, Mimalloc, false, false);
HW_FLOOR("BM_FloorCopyMimallocAlone", NoHash, Mimalloc, true, false);
HW_FLOOR("BM_FloorCopyMimallocShared", NoHash, Mimalloc, true, true);
HW_FLOOR("BM_FloorCopyGlibc", NoHash, Glibc, true, false);
HW_FLOOR("BM_FloorHashKeyCopyMimallocAlone", HashKey, Mimalloc, true, false);
HW_FLOOR("BM_FloorHashKeyCopyMimallocShared", HashKey, Mimalloc, true, true);
HW_FLOOR("BM_FloorStdHashCopyMimallocShared", StdHash, Mimalloc, true, true);
HW_FLOOR("BM_FloorStdHashCopyGlibc", StdHash, Glibc, true, false);
HW_FLOOR("BM_FloorHashKeyCopyColdMimallocAlone", HashKey, Mimalloc, true, false, Source::kCold);
HW_FLOOR("BM_FloorHashKeyCopyColdMimallocShared", HashKey, Mimalloc, true, true, Source::kCold);
HW_FLOOR("BM_FloorStdHashCopyColdGlibc", StdHash, Glibc, true, false, Source::kCold);
HW_FLOOR("BM_FloorHashKeyCopyByHashMimallocAlone", HashKey, Mimalloc, true, false, Source::kByHash);
HW_FLOOR("BM_FloorHashKeyCopyByHashMimallocShared", HashKey, Mimalloc, true, true, Source::kByHash);
HW_FLOOR("BM_FloorStdHashCopyByHashGlibc", StdHash, Glibc, true, false, Source::kByHash);
