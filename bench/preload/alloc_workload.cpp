// An allocation-heavy C++ program for the whole-process comparison (compare.sh): each thread
// descends a recursion of varying depth (about --depth frames, so stacks are deep and many are
// distinct), then makes a burst of allocations of mixed sizes and frees most of them soon after;
// one block in 64 lives until the end of the run, like a cache. Deterministic for given options.
//
//   alloc_workload [--threads N] [--ops N] [--depth N]
//
// --ops is the number of allocations per thread (each is freed, except the long-lived ones,
// which are freed at exit). Prints "threads T allocs A frees F" on stdout.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
    int threads = 1;
    long ops = 1'000'000;
    int depth = 32;
};

// Sizes: mostly small (16..256), some medium (up to 4 KiB), rarely large (64 KiB).
std::size_t pick_size(std::uint64_t r) {
    const unsigned bucket = r % 64;
    if (bucket == 0) return 65536;
    if (bucket < 8) return 512 + (r >> 8) % 3584;
    return 16 + (r >> 8) % 241;
}

struct Worker {
    Worker(std::uint64_t seed, long ops, int d) : rng(seed), ops_left(ops), depth(d) {}
    std::uint64_t rng;
    long ops_left;
    int depth;
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::vector<void*> long_lived;
    static constexpr int kWindow = 64;  // a block is freed kWindow allocations later
    void* window[kWindow] = {};
    unsigned next = 0;

    std::uint64_t rand() {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        return rng >> 17;
    }

    // One burst of allocations at the bottom of the recursion.
    [[gnu::noinline]] void burst() {
        const int n = 16 + static_cast<int>(rand() % 48);
        for (int i = 0; i < n && ops_left > 0; ++i, --ops_left) {
            const std::uint64_t r = rand();
            void* p = std::malloc(pick_size(r));
            if (p == nullptr) std::abort();
            static_cast<volatile char*>(p)[0] = 1;
            ++allocs;
            if ((r >> 40) % 64 == 0) {
                long_lived.push_back(p);
                continue;
            }
            void*& slot = window[next++ % kWindow];
            if (slot != nullptr) {
                std::free(slot);
                ++frees;
            }
            slot = p;
        }
    }

    // Descends d more frames, through two functions so stacks differ by more than their depth.
    [[gnu::noinline]] void descend_a(int d) {
        if (d <= 0) {
            burst();
        } else if (rand() % 4 == 0) {
            descend_b(d - 1);
        } else {
            descend_a(d - 1);
        }
        asm volatile("" ::: "memory");  // keep the frame: no tail call
    }
    [[gnu::noinline]] void descend_b(int d) {
        if (d <= 0) {
            burst();
        } else {
            descend_a(d - 1);
        }
        asm volatile("" ::: "memory");
    }

    void run() {
        while (ops_left > 0) descend_a(depth - 4 + static_cast<int>(rand() % 9));
        for (void*& p : window) {
            if (p != nullptr) {
                std::free(p);
                ++frees;
            }
        }
        for (void* p : long_lived) std::free(p);
        frees += long_lived.size();
    }
};

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (i + 1 >= argc) return false;
        const long v = std::strtol(argv[++i], nullptr, 10);
        if (v <= 0) return false;
        if (a == "--threads") o.threads = static_cast<int>(v);
        else if (a == "--ops") o.ops = v;
        else if (a == "--depth") o.depth = static_cast<int>(v);
        else return false;
    }
    return o.depth >= 4;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: alloc_workload [--threads N] [--ops N] [--depth N>=4]\n");
        return 2;
    }
    std::vector<Worker> workers;
    workers.reserve(static_cast<std::size_t>(o.threads));
    for (int t = 0; t < o.threads; ++t) {
        workers.emplace_back(0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(t + 1), o.ops, o.depth);
    }
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([&w] { w.run(); });
    for (auto& t : threads) t.join();
    std::uint64_t allocs = 0, frees = 0;
    for (const auto& w : workers) {
        allocs += w.allocs;
        frees += w.frees;
    }
    std::printf("threads %d allocs %llu frees %llu\n", o.threads, static_cast<unsigned long long>(allocs),
                static_cast<unsigned long long>(frees));
    return 0;
}
