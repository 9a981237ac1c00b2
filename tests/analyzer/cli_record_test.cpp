// `heapwise record` as a real process, with a preload library that does nothing in place of the
// shim: the child's exit status and death by signal come back unchanged, signals are ignored or
// forwarded as a shell would, options are checked before anything runs and reach the child as
// HEAPWISE_* variables, and a program that cannot run is one line and 127/126.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "run_process.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;

namespace {

test::RunOptions with_null_preload(const test::TempDir& dir) {
    test::RunOptions o;
    o.env["HEAPWISE_PRELOAD"] = test::env_or_fail("HEAPWISE_NULL_PRELOAD");
    o.cwd = dir.path();
    return o;
}

std::vector<std::string> record(std::vector<std::string> tail) {
    std::vector<std::string> argv = {test::heapwise_exe(), "record"};
    argv.insert(argv.end(), tail.begin(), tail.end());
    return argv;
}

std::map<std::string, std::string> read_env_file(const std::filesystem::path& p) {
    std::map<std::string, std::string> env;
    std::ifstream f(p);
    for (std::string line; std::getline(f, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
}

}  // namespace

TEST_CASE("record exits with the child's status and prints one line", "[cli][record]") {
    test::TempDir dir;
    const auto r = test::run(record({"--", "sh", "-c", "echo out; echo err >&2; exit 3"}), with_null_preload(dir));
    CHECK(r.exited(3));
    CHECK(r.out == "out\n");
    REQUIRE(r.err_lines().size() == 2);
    CHECK(r.err_lines()[0] == "err");
    // The stand-in preload writes nothing, so record says so (and where it looked).
    CHECK(r.err_lines()[1] == "heapwise: no trace was written (looked for heapwise.%e.%p.hwt in .)");

    CHECK(test::run(record({"--", "true"}), with_null_preload(dir)).exited(0));
    CHECK(test::run(record({"sh", "-c", "exit 255"}), with_null_preload(dir)).exited(255));
}

TEST_CASE("record dies by the signal that killed the child", "[cli][record]") {
    test::TempDir dir;
    for (int sig : {SIGSEGV, SIGTERM, SIGINT, SIGKILL, SIGABRT}) {
        INFO("signal " << sig);
        const auto r = test::run(record({"--", "sh", "-c", "kill -" + std::to_string(sig) + " $$"}),
                                 with_null_preload(dir));
        CHECK(r.signaled(sig));  // SIGINT included: the child got it with its default action
        CHECK(r.err_lines().size() == 1);
    }
}

TEST_CASE("record passes stdin through and runs the child with its environment",
          "[cli][record]") {
    test::TempDir dir;
    test::write_file(dir / "in.txt", test::Bytes{'h', 'i', '\n'});
    auto o = with_null_preload(dir);
    o.stdin_path = dir / "in.txt";
    o.env["LD_PRELOAD"] = "";
    const auto r = test::run(record({"--", "sh", "-c", "read x; echo got $x"}), o);
    CHECK(r.exited(0));
    CHECK(r.out == "got hi\n");

    auto e = with_null_preload(dir);
    e.env["LD_PRELOAD"] = "/lib/x86_64-linux-gnu/libc.so.6";  // an existing entry, kept second
    e.env["ASAN_OPTIONS"] = "verify_asan_link_order=0";  // heapwise itself inherits LD_PRELOAD
    e.unset = {"PYTHONMALLOC", "HEAPWISE_OUTPUT"};
    const auto env_run = test::run(
        record({"-o", "t.%p.hwt", "--depth", "12", "--unwind", "fp", "--sample-interval", "512KiB",
                "--no-follow", "--fork", "stop", "--snapshot-signal", "SIGUSR2", "--snapshot-every",
                "10s", "--rss-interval", "250ms", "--", "sh", "-c", "env > env.txt"}),
        e);
    CHECK(env_run.exited(0));
    auto env = read_env_file(dir / "env.txt");
    CHECK(env["LD_PRELOAD"] == test::env_or_fail("HEAPWISE_NULL_PRELOAD") + ":/lib/x86_64-linux-gnu/libc.so.6");
    CHECK(env["PYTHONMALLOC"] == "malloc");
    CHECK(env["HEAPWISE_OUTPUT"] == "t.%p.hwt");
    CHECK(env["HEAPWISE_DEPTH"] == "12");
    CHECK(env["HEAPWISE_UNWIND"] == "fp");
    CHECK(env["HEAPWISE_MODE"] == "sampled");
    CHECK(env["HEAPWISE_SAMPLE_INTERVAL"] == "524288");
    CHECK(env["HEAPWISE_FOLLOW_EXEC"] == "0");
    CHECK(env["HEAPWISE_FORK"] == "stop");
    CHECK(env["HEAPWISE_SNAPSHOT_SIGNAL"] == std::to_string(SIGUSR2));
    CHECK(env["HEAPWISE_SNAPSHOT_EVERY"] == "10s");
    CHECK(env["HEAPWISE_RSS_INTERVAL"] == "250ms");

    // Sizes and durations go through the analyzer's parsers: KB is 1024 as for the tracer, and
    // a decimal duration reaches the tracer (which reads whole numbers) in nanoseconds.
    auto dec = with_null_preload(dir);
    dec.unset = {"HEAPWISE_OUTPUT"};
    CHECK(test::run(record({"--sample-interval", "4KB", "--snapshot-every", "1.5s", "--", "sh", "-c",
                            "env > env4.txt"}), dec).exited(0));
    auto env4 = read_env_file(dir / "env4.txt");
    CHECK(env4["HEAPWISE_SAMPLE_INTERVAL"] == "4096");
    CHECK(env4["HEAPWISE_SNAPSHOT_EVERY"] == "1500000000ns");

    auto keep = with_null_preload(dir);
    keep.env["PYTHONMALLOC"] = "pymalloc";
    CHECK(test::run(record({"--", "sh", "-c", "env > env2.txt"}), keep).exited(0));
    CHECK(read_env_file(dir / "env2.txt")["PYTHONMALLOC"] == "pymalloc");
    auto off = with_null_preload(dir);
    off.unset = {"PYTHONMALLOC"};
    CHECK(test::run(record({"--no-python-malloc", "--", "sh", "-c", "env > env3.txt"}), off).exited(0));
    CHECK(read_env_file(dir / "env3.txt").count("PYTHONMALLOC") == 0);
}

TEST_CASE("record checks options before running anything", "[cli][record]") {
    test::TempDir dir;
    const std::vector<std::vector<std::string>> bad = {
        {"--depth", "0"}, {"--depth", "2000"}, {"--depth", "x"}, {"--unwind", "dwarf"},
        {"--mode", "fast"}, {"--sample-interval", "12XB"}, {"--sample-interval", "0"},
        {"--mode", "lossy", "--sample-interval", "1MiB"}, {"--snapshot-signal", "KILL"},
        {"--snapshot-signal", "NOPE"}, {"--snapshot-every", "5"}, {"--rss-interval", "10us"},
        {"--fork", "maybe"}, {"--bogus"},
    };
    for (const auto& opts : bad) {
        std::vector<std::string> tail = opts;
        for (const char* a : {"--", "sh", "-c", "touch ran"}) tail.push_back(a);
        const auto r = test::run(record(tail), with_null_preload(dir));
        INFO(opts.front() << " " << r.err);
        CHECK(r.exited(2));
        CHECK(r.err_lines().size() == 1);
        CHECK(r.err.rfind("heapwise: ", 0) == 0);
        CHECK_FALSE(std::filesystem::exists(dir / "ran"));
    }
    const auto none = test::run(record({}), with_null_preload(dir));
    CHECK(none.exited(2));
    CHECK(none.err == "heapwise: record: no program given (usage: heapwise record [options] -- PROGRAM ARGS...)\n");

    auto missing_shim = with_null_preload(dir);
    missing_shim.env["HEAPWISE_PRELOAD"] = (dir / "nope.so").string();
    const auto ms = test::run(record({"--", "sh", "-c", "touch ran"}), missing_shim);
    CHECK(ms.exited(2));
    CHECK(ms.err == "heapwise: HEAPWISE_PRELOAD=" + (dir / "nope.so").string() + ": no such file\n");
    CHECK_FALSE(std::filesystem::exists(dir / "ran"));
}

TEST_CASE("a program that cannot be executed: one line, 127 or 126", "[cli][record]") {
    test::TempDir dir;
    const auto missing = test::run(record({"--", "no-such-program-heapwise"}), with_null_preload(dir));
    CHECK(missing.exited(127));
    CHECK(missing.err == "heapwise: no-such-program-heapwise: No such file or directory\n");
    test::write_file(dir / "plain.txt", test::Bytes{'x'});
    const auto noexec = test::run(record({"--", "./plain.txt"}), with_null_preload(dir));
    CHECK(noexec.exited(126));
    CHECK(noexec.err == "heapwise: ./plain.txt: Permission denied\n");
}

TEST_CASE("record ignores SIGINT and forwards SIGTERM to the child", "[cli][record]") {
    test::TempDir dir;
    test::Process p(record({"--", "sh", "-c",
                            "trap 'echo got TERM; exit 42' TERM; touch ready; "
                            "while :; do sleep 0.02; done"}),
                    with_null_preload(dir));
    REQUIRE(test::wait_for_file(dir / "ready"));
    ::kill(p.pid(), SIGINT);   // to record alone: it must survive and keep waiting
    ::kill(p.pid(), SIGQUIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(p.running());
    ::kill(p.pid(), SIGTERM);  // forwarded: the child's trap decides the exit status
    const auto r = p.wait();
    CHECK(r.exited(42));
    CHECK(r.out == "got TERM\n");

    test::Process h(record({"--", "sh", "-c", "touch ready2; while :; do sleep 0.02; done"}),
                    with_null_preload(dir));
    REQUIRE(test::wait_for_file(dir / "ready2"));
    ::kill(h.pid(), SIGHUP);
    CHECK(h.wait().signaled(SIGHUP));
}

TEST_CASE("record --compression reaches the tracer as HEAPWISE_COMPRESSION, bad values stop it",
          "[cli][record]") {
    test::TempDir dir;
    for (const char* value : {"lz4", "zstd", "zstd:3", "none", "0", "19"}) {
        INFO(value);
        auto o = with_null_preload(dir);
        o.unset = {"HEAPWISE_COMPRESSION"};
        CHECK(test::run(record({"--compression", value, "--", "sh", "-c", "env > env.txt"}), o).exited(0));
        CHECK(read_env_file(dir / "env.txt")["HEAPWISE_COMPRESSION"] == value);
    }
    // Without `--`: record knows --compression takes a value, so the program starts after it.
    auto o = with_null_preload(dir);
    o.unset = {"HEAPWISE_COMPRESSION"};
    CHECK(test::run(record({"--compression", "lz4", "sh", "-c", "env > env5.txt"}), o).exited(0));
    CHECK(read_env_file(dir / "env5.txt")["HEAPWISE_COMPRESSION"] == "lz4");
    for (const char* value : {"gzip", "zstd:20", "zstd:0", "20", "lz4:2", ""}) {
        INFO("'" << value << "'");
        const auto r = test::run(record({"--compression", value, "--", "sh", "-c", "touch ran"}), with_null_preload(dir));
        CHECK(r.exited(2));
        CHECK(r.err == std::string("heapwise: record: --compression ") + value +
                           ": expected lz4, zstd, zstd:LEVEL (1 to 19) or none (a bare number is a zstd level, 0 none)\n");
        CHECK_FALSE(std::filesystem::exists(dir / "ran"));
    }
}
