// What one memory sample costs: memory_stats() whole and by part (meminfo, status, status plus
// smaps_rollup, the cgroup walk), the monitor's own sample and check(), and window statistics.
// Run on the real /proc and cgroup files of the machine the benchmark runs on.
#include <benchmark/benchmark.h>

#include <chrono>

#include "heapwise/memory.hpp"
#include "heapwise/monitor.hpp"

namespace {

void BM_memory_stats_all(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(heapwise::memory_stats());
}
BENCHMARK(BM_memory_stats_all);

// The parts the monitor reads by default (everything but smaps_rollup).
void BM_memory_stats_monitor_parts(benchmark::State& state) {
    using heapwise::StatsParts;
    const auto parts = StatsParts::system | StatsParts::process | StatsParts::cgroup;
    for (auto _ : state) benchmark::DoNotOptimize(heapwise::memory_stats(parts));
}
BENCHMARK(BM_memory_stats_monitor_parts);

void BM_part_meminfo(benchmark::State& state) {
    heapwise::SystemMemory m;
    for (auto _ : state) {
        benchmark::DoNotOptimize(heapwise::read_system_memory("", m));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_part_meminfo);

void BM_part_status(benchmark::State& state) {
    heapwise::ProcessMemory m;
    for (auto _ : state) {
        benchmark::DoNotOptimize(heapwise::read_process_memory("", m, false));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_part_status);

void BM_part_status_and_smaps_rollup(benchmark::State& state) {
    heapwise::ProcessMemory m;
    for (auto _ : state) {
        benchmark::DoNotOptimize(heapwise::read_process_memory("", m, true));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_part_status_and_smaps_rollup);

void BM_part_cgroup(benchmark::State& state) {
    heapwise::ContainerMemory m;
    for (auto _ : state) {
        m = {};
        benchmark::DoNotOptimize(heapwise::read_container_memory("", m));
        benchmark::ClobberMemory();
    }
    state.SetLabel(m.version == heapwise::CgroupVersion::v1   ? "cgroup v1"
                   : m.version == heapwise::CgroupVersion::v2 ? "cgroup v2"
                                                              : "no cgroup");
}
BENCHMARK(BM_part_cgroup);

// check(): one sample through the monitor (the same work its thread does per interval,
// minus window and callbacks).
void BM_monitor_check(benchmark::State& state) {
    heapwise::MonitorOptions o;
    o.interval = std::chrono::hours(1);  // the thread stays asleep during the measurement
    o.psi = false;
    heapwise::MemoryMonitor mon(o);
    for (auto _ : state) benchmark::DoNotOptimize(mon.check());
}
BENCHMARK(BM_monitor_check);

void BM_window_stats_60(benchmark::State& state) {
    auto clock = std::make_shared<heapwise::ManualClock>();
    heapwise::MonitorOptions o;
    o.psi = false;
    o.clock = clock;
    o.window = 60;
    std::uint64_t used = 1000;
    o.source = [&used] {
        heapwise::MemoryStats st;
        st.limit = 1 << 20;
        st.used = used += 37;
        return st;
    };
    heapwise::MemoryMonitor mon(o);
    clock->wait_for_sleepers(1);
    for (int i = 0; i < 60; ++i) clock->advance(std::chrono::seconds(1));
    for (auto _ : state) benchmark::DoNotOptimize(mon.window());
}
BENCHMARK(BM_window_stats_60);

}  // namespace
