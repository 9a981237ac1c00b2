// End to end: a real C program with a planted leak runs under the real shim
// (HW_REPLAY_PRELOAD); the replay of its trace, grouped by function, names leak_here with
// exactly the bytes and blocks it leaked.
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "analyzer/replay/leaks.hpp"
#include "analyzer/trace_stats.hpp"
#include "trace_bytes.hpp"

extern char** environ;

using namespace heapwise;
using namespace heapwise::analyzer;

TEST_CASE("leaks by function name the planted leak with its exact bytes", "[replay][e2e]") {
    const char* shim = std::getenv("HW_REPLAY_PRELOAD");
    const char* program = std::getenv("HW_REPLAY_PROGRAM");
    REQUIRE(shim != nullptr);
    REQUIRE(program != nullptr);
    test::TempDir dir;
    std::vector<std::string> env_text = {std::string("LD_PRELOAD=") + shim,
                                         "HEAPWISE_OUTPUT=" + (dir / "leak.%p.hwt").string()};
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view v(*e);
        if (!v.starts_with("LD_PRELOAD=") && !v.starts_with("HEAPWISE_")) env_text.emplace_back(v);
    }
    std::vector<char*> envp;
    for (auto& s : env_text) envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(program), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, program, nullptr, nullptr, argv, envp.data()) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);

    std::filesystem::path trace;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) trace = entry.path();
    REQUIRE(!trace.empty());

    ReplayRequest req;
    req.points = {parse_point("end")};
    const ReplayResult r = replay_trace(trace, req);
    CHECK(r.summary.clean());
    CHECK_FALSE(r.facts.sampled);
    StackSymbols symbols(r);
    const auto rows = leaks_at_end(group(r.points[0], GroupBy::kFunction, &symbols));
    const auto it = std::find_if(rows.begin(), rows.end(),
                                 [](const DiffRow& row) { return row.key == "leak_here"; });
    REQUIRE(it != rows.end());
    CHECK(it->size == 3 * 4096);
    CHECK(it->count == 3);
    CHECK(std::none_of(rows.begin(), rows.end(),
                       [](const DiffRow& row) { return row.key == "churn"; }));
    const GroupedSnapshot all = group(r.points[0], GroupBy::kFunction, &symbols);
    CHECK(all.groups.at("churn").allocs == 200);
    CHECK(all.groups.at("churn").temporary == 200);

    // The replay agrees with the statistics replay (heapwise stats) on the same real trace.
    TraceReader reader(trace);
    StatsBuilder stats;
    reader.read(stats);
    CHECK(r.facts.allocs == stats.stats().allocs);
    CHECK(r.facts.peak_bytes == stats.stats().peak_live_bytes);
    CHECK(r.facts.peak_time_ns == stats.stats().peak_time_ns);
    CHECK(r.facts.end_bytes == stats.stats().live_bytes);
    CHECK(r.points[0].live_bytes == stats.stats().live_bytes);
    CHECK(r.facts.free_of_unknown == stats.stats().free_of_unknown);
}
