// Many small allocations from several threads, for the lossy and sampled modes and the bad-input
// runs: each of THREADS threads makes COUNT blocks of SIZE bytes in churn_work() and frees each at
// once. Usage: churn THREADS COUNT SIZE. Output is deterministic ("allocs N", "bytes N") so traced
// and untraced runs can be compared byte for byte.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "report.h"

extern "C" __attribute__((noinline)) void churn_work(long count, std::size_t size) {
    for (long i = 0; i < count; ++i) {
        void* p = std::malloc(size);
        if (p == nullptr) std::abort();
        static_cast<volatile char*>(p)[0] = 1;
        std::free(p);
    }
}

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    const int threads = std::atoi(argv[1]);
    const long count = std::atol(argv[2]);
    const std::size_t size = std::strtoull(argv[3], nullptr, 10);
    if (std::getenv("CHURN_REPORT") != nullptr) {
        report_exe();
        report_range("churn_work", reinterpret_cast<report_fn>(&churn_work));
    }
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(churn_work, count, size);
    for (auto& t : pool) t.join();
    std::printf("allocs %ld\nbytes %llu\n", count * threads,
                static_cast<unsigned long long>(count) * threads * size);
    return 0;
}
