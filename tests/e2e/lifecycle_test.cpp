// End-to-end: the process lifecycle. exec through a wrapper script is followed (or not, by option);
// every way of ending (return, exit, _exit, abort, a fatal signal, SIGKILL mid-run) leaves a
// readable trace and the exit status the program has without the tracer; allocations from
// constructors and destructors neither crash nor hang.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <string_view>
#include <thread>

#include "analyzer/trace_stats.hpp"
#include "checks.hpp"

using namespace heapwise::e2e;

namespace {

bool is_python(const TraceFacts& t) {
    return t.info && fs::path(t.info->exe).filename().string().starts_with("python3");
}
bool is_bash(const TraceFacts& t) { return t.info && fs::path(t.info->exe).filename() == "bash"; }

const std::string kPythonOut = "{\"sum\": 4950}\n";

}  // namespace

TEST_CASE("exec through a bash script yields a trace of python3", "[e2e][lifecycle][exec]") {
    TempDir dir;
    const auto script = (Paths::get().scripts / "exec_python.sh").string();
    const Outcome r = run(traced({{script}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    CHECK(r.out == kPythonOut);
    const auto files = traces_in(dir.path());
    std::vector<TraceFacts> traces;
    for (const auto& p : files) traces.push_back(replay(p));
    REQUIRE(traces.size() == 2);
    const auto py = std::find_if(traces.begin(), traces.end(), is_python);
    const auto sh = std::find_if(traces.begin(), traces.end(), is_bash);
    REQUIRE(py != traces.end());
    REQUIRE(sh != traces.end());
    require_sound(*py);
    CHECK(py->info->pid == static_cast<std::uint64_t>(r.pid));
    CHECK(py->allocs > 100);
    CHECK(py->end->reason == hwa::EndReason::kExit);
    INFO(sh->summary());
    CHECK(sh->damage.empty());
    CHECK(sh->info->pid == static_cast<std::uint64_t>(r.pid));
    REQUIRE(sh->end.has_value());
    CHECK(sh->end->reason == hwa::EndReason::kExec);
}

TEST_CASE("HEAPWISE_FOLLOW_EXEC=0 and record --no-follow leave the exec'd program untraced",
          "[e2e][lifecycle][exec]") {
    const auto script = (Paths::get().scripts / "exec_python.sh").string();
    SECTION("HEAPWISE_FOLLOW_EXEC=0") {
        TempDir dir;
        Command c = traced({{script}}, dir.path());
        c.env.emplace_back("HEAPWISE_FOLLOW_EXEC", "0");
        const Outcome r = run(c);
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == kPythonOut);
        const TraceFacts t = the_trace(dir.path());
        CHECK(is_bash(t));
        CHECK(t.damage.empty());
    }
    SECTION("heapwise record --no-follow") {
        TempDir dir;
        const Outcome r = run({{Paths::get().cli.string(), "record", "--no-follow", "-o",
                                (dir / "%e.%p.hwt").string(), "--", script}});
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == kPythonOut);
        const TraceFacts t = the_trace(dir.path());
        CHECK(is_bash(t));
        CHECK(t.damage.empty());
    }
    SECTION("heapwise record follows by default") {
        TempDir dir;
        const Outcome r = run({{Paths::get().cli.string(), "record", "-o", (dir / "%e.%p.hwt").string(), "--",
                                script}});
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == kPythonOut);
        const auto files = traces_in(dir.path());
        REQUIRE(files.size() == 2);
        std::vector<TraceFacts> traces;
        for (const auto& p : files) traces.push_back(replay(p));
        REQUIRE(std::any_of(traces.begin(), traces.end(), is_python));
    }
}

namespace {

struct ExitCase {
    const char* how;
    int exit_code;
    int signal;
    hwa::EndReason end;  // the end record the trace must close with (none for _exit is allowed)
    bool end_required;   // also: the events just before the end must be in the trace
};

// The checks every exit path must pass; `complete`: also the last events and the end record.
void check_exit_path(const ExitCase& ec, bool complete) {
    TempDir dir;
    const std::vector<std::string> argv = {Paths::get().program("e2e_exit_paths").string(), ec.how};
    const Outcome plain = run({argv});
    const Outcome r = run(traced({argv}, dir.path()));
    INFO(r.describe());
    CHECK(r.same_status(plain));
    CHECK(r.exit_code == ec.exit_code);
    CHECK(r.term_signal == ec.signal);
    CHECK(r.out.find("ready\n") != std::string::npos);
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    INFO(t.summary());
    REQUIRE(t.info.has_value());
    CHECK(t.damage.empty());
    CHECK(t.inconsistencies == 0);
    if (t.end) {
        CHECK(t.end->allocs == t.allocs);
        CHECK(t.end->frees == t.frees);
    }
    if (!complete) return;
    const auto work = allocs_of(t, f.exe(), f.range("work"));
    REQUIRE(work.size() == 3);
    for (const auto& op : work) {
        CHECK(op.block.size == 4242);
        CHECK(t.live.count(op.addr) == 1);
    }
    if (ec.end_required) {
        REQUIRE(t.end.has_value());
        CHECK(t.end->reason == ec.end);
    }
}

}  // namespace

TEST_CASE("every exit path leaves a readable trace and the untraced exit status", "[e2e][lifecycle][exit]") {
    const ExitCase cases[] = {
        {"return", 0, 0, hwa::EndReason::kExit, true},
        {"exit", 7, 0, hwa::EndReason::kExit, true},
        {"_exit", 8, 0, hwa::EndReason::kExit, false},
        {"abort", -1, SIGABRT, hwa::EndReason::kSignal, true},
        {"segv", -1, SIGSEGV, hwa::EndReason::kSignal, true},
    };
    for (const auto& ec : cases) {
        // A fatal signal is held to the SIGKILL standard (readable up to the last block).
        SECTION(ec.how) { check_exit_path(ec, std::string_view(ec.how) != "segv"); }
    }
}

namespace {

// A program allocating steadily (it never exits by itself) is sent `sig` once the periodic flush
// has put every block of its first second in the file. The trace reads up to its last block
// (only the block the signal cut short may be damaged), has no End record and holds every block
// of the first second, exactly.
void check_signal_mid_run(int sig) {
    TempDir dir;
    Process p(traced({{Paths::get().program("e2e_exit_paths").string(), "spin"}}, dir.path()));
    REQUIRE(p.wait_for_stdout("t1 ", 20s));
    // The program makes nothing but spin's blocks once it spins, so 100,000 allocations more than
    // it made in its first second (40 ms of its work) mean all of that second is in the file.
    // Counted with the analyzer's statistics: a full replay of a growing trace at every look
    // would cost seconds.
    const std::uint64_t made = Facts(p.stdout_so_far()).num("t1");
    CHECK(wait_for_trace(
        dir.path(),
        [made](const fs::path& trace) {
            heapwise::analyzer::StatsBuilder stats;
            heapwise::analyzer::TraceReader(trace).read_with(stats);
            return stats.stats().allocs >= made + 100'000;
        },
        1200ms, 20s));
    p.signal(sig);
    const Outcome r = p.wait();
    INFO(r.describe());
    REQUIRE(r.term_signal == sig);
    const Facts f(r.out);
    const auto first_second = f.num("t1");
    REQUIRE(first_second > 1000);

    const TraceFacts t = the_trace(dir.path());
    INFO(t.summary());
    REQUIRE(t.info.has_value());
    CHECK(!t.end.has_value());
    CHECK(t.damage.size() <= 1);
    CHECK(t.inconsistencies == 0);
    const auto spin = allocs_of(t, f.exe(), f.range("spin"));
    INFO("spin blocks in trace " << spin.size() << ", made in the first second " << first_second);
    REQUIRE(spin.size() >= first_second);
    for (std::uint64_t i = 0; i < first_second; ++i) {
        if (spin[i].block.size != 100 + i % 1000) {
            FAIL("block " << i << " has " << spin[i].block.size << " bytes, expected " << 100 + i % 1000);
        }
    }
}

}  // namespace

// A fatal signal ends the process as it would without the tracer: the shim installs no handler
// (docs/tracer.md, "Fatal signals and SIGKILL"), so the trace holds exactly what the writer had
// flushed by then, whole blocks that read without damage, and no End record.
TEST_CASE("a fatal SIGSEGV leaves the trace readable up to its last block, without End record",
          "[e2e][lifecycle][exit]") {
    SECTION("a real invalid write") {
        TempDir dir;
        const std::vector<std::string> argv = {Paths::get().program("e2e_exit_paths").string(), "segv"};
        const Outcome r = run(traced({argv}, dir.path()));
        INFO(r.describe());
        CHECK(r.term_signal == SIGSEGV);
        const TraceFacts t = the_trace(dir.path());
        INFO(t.summary());
        REQUIRE(t.info.has_value());  // header, ProcessInfo and modules are on disk before main
        CHECK(t.damage.size() <= 1);  // only a block the signal cut short, at the end
        CHECK(t.inconsistencies == 0);
        CHECK(!t.end.has_value());
    }
    SECTION("SIGSEGV sent mid-run: everything of the first second is in the trace") {
        check_signal_mid_run(SIGSEGV);
    }
}

TEST_CASE("SIGKILL mid-run: the trace reads up to its last block and holds the first second",
          "[e2e][lifecycle][exit]") {
    check_signal_mid_run(SIGKILL);
}

TEST_CASE("allocations from constructors, destructors and atexit handlers", "[e2e][lifecycle]") {
    TempDir dir;
    const std::vector<std::string> argv = {Paths::get().program("e2e_ctor_dtor").string()};
    const Outcome r = run(traced({argv}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    CHECK(r.out == "main ok\n");
    CHECK(r.err.empty());
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    // Constructors of the program run after the shim's own: their blocks are traced.
    std::set<std::uint64_t> sizes;
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kAlloc) sizes.insert(op.block.size);
    }
    CHECK(sizes.count(31337) == 1);
    CHECK(sizes.count(31339) == 1);
}
