// Stress for the ordering rule: threads allocate blocks and swap them through a shared table, so
// each block is usually freed by another thread than the one that allocated it and addresses are
// reused across threads all the time. Usage: cross_free THREADS ROUNDS. Prints per-run totals of
// the blocks worker() allocated ("allocs N", "bytes N"), and the blocks main deliberately leaks.
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "report.h"

namespace {

constexpr int kSlots = 64;
constexpr int kLeaks = 3;
std::atomic<void*> slots[kSlots];
std::atomic<std::uint64_t> total_allocs{0};
std::atomic<std::uint64_t> total_bytes{0};
std::atomic<int> waiting{0};

}  // namespace

extern "C" __attribute__((noinline)) void worker(unsigned seed, int rounds) {
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    std::uint64_t allocs = 0, bytes = 0;
    // Start together and yield often: on 2 cores a thread would otherwise finish its rounds
    // within one time slice, and blocks would rarely change hands.
    waiting.fetch_sub(1);
    while (waiting.load() > 0) sched_yield();
    for (int r = 0; r < rounds; ++r) {
        if ((r & 15) == 0) sched_yield();
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const std::size_t size = 16 + ((x >> 33) % 700);
        void* p = std::malloc(size);
        if (p == nullptr) std::abort();
        static_cast<volatile char*>(p)[0] = 1;
        ++allocs;
        bytes += size;
        void* old = slots[(x >> 20) % kSlots].exchange(p, std::memory_order_acq_rel);
        std::free(old);
    }
    total_allocs += allocs;
    total_bytes += bytes;
}

int main(int argc, char** argv) {
    const int nthreads = argc > 1 ? std::atoi(argv[1]) : 4;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 20000;
    report_exe();
    report_range("worker", reinterpret_cast<report_fn>(&worker));
    std::vector<std::thread> threads;
    waiting = nthreads;
    for (int t = 0; t < nthreads; ++t) threads.emplace_back(worker, static_cast<unsigned>(t + 1), rounds);
    for (auto& t : threads) t.join();
    int leaked = 0;
    for (auto& s : slots) {
        void* p = s.exchange(nullptr);
        if (p == nullptr) continue;
        if (leaked < kLeaks) {
            report_ptr("leak", p);
            ++leaked;
        } else {
            std::free(p);
        }
    }
    report_line("allocs %llu", static_cast<unsigned long long>(total_allocs.load()));
    report_line("bytes %llu", static_cast<unsigned long long>(total_bytes.load()));
    return 0;
}
