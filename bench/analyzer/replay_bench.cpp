// Events read and replayed per second on one core, on a real trace: churn (HW_BENCH_CHURN) run
// once under the real shim (HW_BENCH_SHIM) with HW_BENCH_EVENTS heap events (default 2 million)
// before the first benchmark, or the trace file HW_BENCH_TRACE (e.g. compare.sh's python one).
// Each benchmark reads the whole file through one visitor, with TraceReader::read_with as the
// commands do (direct calls to a final visitor): nothing (decode only), StatsBuilder (`heapwise
// stats`), HeapReplay (the report's replay), the timeline; and replay_trace with peak and end
// snapshots and a growth series (one pass on a trace with markers, two without).
// items_per_second counts heap events (allocations and frees), to compare with heaptrack_print.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzer/replay/replay.hpp"
#include "analyzer/timeline/timeline.hpp"
#include "analyzer/trace_reader.hpp"
#include "analyzer/trace_stats.hpp"

extern char** environ;

using namespace heapwise::analyzer;

namespace {

struct BenchTrace {
    std::filesystem::path dir;
    std::filesystem::path path;
    std::uint64_t events = 0;
    ~BenchTrace() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

// Records the trace once per process.
const BenchTrace& bench_trace() {
    static BenchTrace t = [] {
        BenchTrace b;
        if (const std::string given = env_or("HW_BENCH_TRACE", ""); !given.empty()) {
            b.path = given;  // not ours: dir stays empty, so it is not removed
            TraceReader reader(b.path);
            StatsBuilder stats;
            reader.read(stats);
            b.events = stats.stats().allocs + stats.stats().frees;
            return b;
        }
        char tmpl[] = "/tmp/heapwise-replay-bench-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        b.dir = tmpl;
        b.path = b.dir / "churn.hwt";
        const std::string churn = env_or("HW_BENCH_CHURN", "");
        const std::string shim = env_or("HW_BENCH_SHIM", "");
        const std::string events = env_or("HW_BENCH_EVENTS", "2000000");
        if (churn.empty() || shim.empty()) throw std::runtime_error("set HW_BENCH_CHURN and HW_BENCH_SHIM");
        std::vector<std::string> env = {"LD_PRELOAD=" + shim, "HEAPWISE_OUTPUT=" + b.path.string()};
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view v(*e);
            if (!v.starts_with("LD_PRELOAD=") && !v.starts_with("HEAPWISE_")) env.emplace_back(v);
        }
        std::vector<char*> envp;
        for (auto& s : env) envp.push_back(s.data());
        envp.push_back(nullptr);
        std::vector<std::string> args = {churn, "--events", events};
        std::vector<char*> argv;
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        int status = 0;
        if (posix_spawn(&pid, churn.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0 ||
            waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            throw std::runtime_error("churn under the shim failed");
        }
        TraceReader reader(b.path);
        StatsBuilder stats;
        reader.read(stats);
        b.events = stats.stats().allocs + stats.stats().frees;
        return b;
    }();
    return t;
}

void finish(benchmark::State& state, const BenchTrace& t) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * t.events));
    state.counters["events"] = static_cast<double>(t.events);
    state.counters["file_MB"] = static_cast<double>(std::filesystem::file_size(t.path)) / 1e6;
}

template <class Visitor>
void read_with(benchmark::State& state) {
    const BenchTrace& t = bench_trace();
    for (auto _ : state) {
        Visitor v;
        TraceReader reader(t.path);
        benchmark::DoNotOptimize(reader.read_with(v));  // as the commands read: direct calls
    }
    finish(state, t);
}

struct NullVisitor : EventVisitor {};

void BM_DecodeOnly(benchmark::State& state) { read_with<NullVisitor>(state); }
void BM_Stats(benchmark::State& state) { read_with<StatsBuilder>(state); }
void BM_HeapReplay(benchmark::State& state) { read_with<HeapReplay>(state); }
void BM_Timeline(benchmark::State& state) { read_with<TimelineBuilder>(state); }

void BM_ReplayWithSnapshots(benchmark::State& state) {
    const BenchTrace& t = bench_trace();
    ReplayRequest req;
    req.points = {parse_point("peak"), parse_point("end")};
    req.growth_slices = 10;
    for (auto _ : state) benchmark::DoNotOptimize(replay_trace(t.path, req));
    finish(state, t);
}

BENCHMARK(BM_DecodeOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Stats)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HeapReplay)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Timeline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReplayWithSnapshots)->Unit(benchmark::kMillisecond);

}  // namespace
