// End-to-end: real programs (Debian's python3, curl, wget, git, sh pipelines) under the tracer
// must print exactly what they print untraced and exit the same way, and every process they start
// must leave a trace that reads without damage and replays without an inconsistency.
#include <catch2/catch.hpp>

#include <algorithm>

#include "checks.hpp"

using namespace heapwise::e2e;

namespace {

// Every trace in dir is readable and consistent. A process killed by a signal (SIGPIPE in a
// pipeline) may lack its end record. A fork child's trace starts after the fork, so it may free
// blocks its parent allocated before (unknown to it); nothing else may be inconsistent.
std::size_t require_all_sound(const fs::path& dir) {
    const auto files = traces_in(dir);
    std::vector<TraceFacts> traces;
    for (const auto& p : files) traces.push_back(replay(p, ReplayOptions{.keep_ops = false}));
    for (const auto& t : traces) {
        INFO(t.summary());
        REQUIRE(t.info.has_value());
        const bool fork_child = std::any_of(traces.begin(), traces.end(), [&](const TraceFacts& o) {
            return o.info && o.info->pid == t.info->ppid && o.info->exe == t.info->exe;
        });
        CHECK(t.damage.empty());
        CHECK(t.allocs_of_live == 0);
        CHECK(t.unmatched_failed == 0);
        if (!fork_child) CHECK(t.unknown_frees == 0);
        if (t.end) {
            CHECK(t.end->allocs == t.allocs);
            CHECK(t.end->frees == t.frees);
        }
    }
    return files.size();
}

// Runs cmd untraced, then traced into dir; both must agree on stdout and status.
Outcome compare(const Command& cmd, const fs::path& dir) {
    const Outcome plain = run(cmd);
    INFO("untraced: " << plain.describe());
    REQUIRE(!plain.timed_out);
    const Outcome traced_run = run(traced(cmd, dir));
    INFO("traced: " << traced_run.describe());
    CHECK(traced_run.same_status(plain));
    CHECK(traced_run.out == plain.out);
    return traced_run;
}

}  // namespace

TEST_CASE("python3 running a stdlib workload", "[e2e][real]") {
    const auto script = (Paths::get().scripts / "py_workload.py").string();
    const Command cmd({"/usr/bin/python3", script}, 60s);
    SECTION("plain LD_PRELOAD") {
        TempDir dir;
        const Outcome r = compare(cmd, dir.path());
        REQUIRE(r.exited_with(0));
        CHECK(require_all_sound(dir.path()) == 1);
    }
    SECTION("heapwise record, which makes Python allocate object by object") {
        TempDir dir;
        const Outcome plain = run(cmd);
        const Outcome r = run({{Paths::get().cli.string(), "record", "-o", (dir / "py.%p.hwt").string(), "--",
                                "/usr/bin/python3", script},
                               90s});
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == plain.out);
        REQUIRE(require_all_sound(dir.path()) == 1);
        const TraceFacts t = replay(traces_in(dir.path()).front(), ReplayOptions{.keep_ops = false});
        // PYTHONMALLOC=malloc: the 100k-entry dict alone is hundreds of thousands of blocks.
        CHECK(t.allocs > 300000);
    }
}

TEST_CASE("curl and wget fetching from a local http.server", "[e2e][real]") {
    TempDir www;
    std::string page;
    for (int i = 0; i < 20000; ++i) page += "line " + std::to_string(i) + " of the page served to curl and wget\n";
    write_file(www / "page.txt", page);
    HttpServer server(www.path());
    SECTION("curl") {
        TempDir dir;
        const Outcome r = compare({{"/usr/bin/curl", "-sS", "--fail", server.url("page.txt")}}, dir.path());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == page);
        CHECK(require_all_sound(dir.path()) == 1);
    }
    SECTION("wget") {
        TempDir dir;
        const Outcome r = compare({{"/usr/bin/wget", "-q", "-O", "-", server.url("page.txt")}}, dir.path());
        REQUIRE(r.exited_with(0));
        CHECK(r.out == page);
        CHECK(require_all_sound(dir.path()) == 1);
    }
    SECTION("curl of a missing page fails the same way") {
        TempDir dir;
        const Outcome r = compare({{"/usr/bin/curl", "-s", "--fail", server.url("missing.txt")}}, dir.path());
        CHECK(r.exit_code == 22);
        CHECK(require_all_sound(dir.path()) == 1);
    }
}

TEST_CASE("git init, add, commit and log on a small repository", "[e2e][real]") {
    // Fixed identity, dates and no outside configuration: the commit id is the same in both runs.
    const std::vector<std::pair<std::string, std::string>> git_env = {
        {"GIT_AUTHOR_NAME", "Heap Wise"},      {"GIT_AUTHOR_EMAIL", "hw@example.invalid"},
        {"GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z"}, {"GIT_COMMITTER_NAME", "Heap Wise"},
        {"GIT_COMMITTER_EMAIL", "hw@example.invalid"}, {"GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z"},
        {"GIT_CONFIG_NOSYSTEM", "1"},          {"GIT_CONFIG_GLOBAL", "/dev/null"},
        {"GIT_TERMINAL_PROMPT", "0"},
    };
    const auto run_sequence = [&](const fs::path& work, const fs::path* trace_dir) {
        fs::create_directories(work / "repo");
        for (int i = 0; i < 20; ++i) {
            std::string text;
            for (int k = 0; k < 200; ++k) text += "file " + std::to_string(i) + " line " + std::to_string(k) + "\n";
            write_file(work / "repo" / ("f" + std::to_string(i) + ".txt"), text);
        }
        const std::vector<std::vector<std::string>> steps = {
            {"/usr/bin/git", "-c", "init.defaultBranch=main", "init", "-q", "."},
            {"/usr/bin/git", "add", "."},
            {"/usr/bin/git", "commit", "-q", "-m", "first commit"},
            {"/usr/bin/git", "log", "--format=%H %an %s", "--stat"},
        };
        std::string transcript;
        for (const auto& argv : steps) {
            Command c(argv, 30s);
            c.env = git_env;
            c.cwd = work / "repo";
            c.env.emplace_back("HOME", work.string());
            const Outcome r = run(trace_dir != nullptr ? traced(c, *trace_dir) : c);
            transcript += argv[1] + " -> " + std::to_string(r.exit_code) + "/" + std::to_string(r.term_signal) +
                          (r.timed_out ? " TIMEOUT" : "") + "\n" + r.out;
        }
        return transcript;
    };
    TempDir plain_dir, traced_dir, traces;
    const std::string plain = run_sequence(plain_dir.path(), nullptr);
    const std::string under = run_sequence(traced_dir.path(), &traces.path());
    CHECK(plain.find("first commit") != std::string::npos);
    CHECK(under == plain);
    CHECK(require_all_sound(traces.path()) >= 4);
}

TEST_CASE("sh -c pipelines", "[e2e][real]") {
    for (const std::string script : {"seq 1 20000 | sort -r | head -5", "seq 1 5000 | tr 0-9 a-j | sort | uniq -c | wc -l",
                                     "for i in 1 2 3; do echo $i | cat; done; exit 3"}) {
        SECTION(script) {
            TempDir dir;
            const Outcome r = compare({{"/bin/sh", "-c", script}}, dir.path());
            CHECK(!r.out.empty());
            CHECK(require_all_sound(dir.path()) >= 2);
        }
    }
}
