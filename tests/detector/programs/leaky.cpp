// A program with planted leaks that watches itself with heapwise::LeakDetector, built twice: run
// under LD_PRELOAD, and with libheapwise_preload.so linked in. It prints what it planted (lines),
// the live rows of compare_to by lineno and function (ROW, tab-separated, exact integers), the
// first row's tracemalloc text (TEXT) and the report; `bad-use` prints each misuse's error (bad-*).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "heapwise/leak_detector.hpp"

using namespace heapwise;

namespace {

std::vector<void*> g_keep;
std::vector<void*> g_early;
int g_line_small, g_line_big, g_line_early;

[[gnu::noinline]] void leak_small() {
    for (int i = 0; i < 100; ++i) {
        g_line_small = __LINE__; g_keep.push_back(std::malloc(4096));
    }
}

[[gnu::noinline]] void leak_big() {
    for (int i = 0; i < 3; ++i) {
        g_line_big = __LINE__; g_keep.push_back(new char[1 << 20]);
    }
}

[[gnu::noinline]] void alloc_early() {
    for (int i = 0; i < 32; ++i) {
        g_line_early = __LINE__; g_early.push_back(std::malloc(100));
    }
}

[[gnu::noinline]] void churn() {
    for (int i = 0; i < 50; ++i) {
        void* p = std::malloc(static_cast<std::size_t>(64 + i));
        std::free(p);
    }
}

void print_rows(const char* by_name, const Differences& rows) {
    for (const StatisticDiff& r : rows) {
        std::printf("ROW %s\t%s\t%llu\t%lld\t%llu\t%lld\n", by_name, r.key.c_str(),
                    static_cast<unsigned long long>(r.size), static_cast<long long>(r.size_diff),
                    static_cast<unsigned long long>(r.count), static_cast<long long>(r.count_diff));
    }
}

const char* code_name(DetectorError::Code c) {
    switch (c) {
        case DetectorError::Code::no_tracer: return "no_tracer";
        case DetectorError::Code::no_live_view: return "no_live_view";
        case DetectorError::Code::foreign_snapshot: return "foreign_snapshot";
        case DetectorError::Code::other_process: return "other_process";
        case DetectorError::Code::same_snapshot: return "same_snapshot";
        case DetectorError::Code::empty_snapshot: return "empty_snapshot";
        case DetectorError::Code::bad_argument: return "bad_argument";
    }
    return "?";
}

template <class F>
void expect_error(const char* what, F&& f) {
    try {
        f();
        std::printf("bad-%s none\n", what);
    } catch (const DetectorError& e) {
        std::printf("bad-%s %s %s\n", what, code_name(e.code()), e.what());
    }
}

int leak_run() {
    g_keep.reserve(1000);
    g_early.reserve(100);
    LeakDetector det;
    alloc_early();
    Snapshot base = det.take_snapshot("L1");
    leak_small();
    leak_big();
    churn();
    for (void* p : g_early) std::free(p);
    Snapshot now = det.take_snapshot("L2");

    std::printf("line_small %d\nline_big %d\nline_early %d\n", g_line_small,
                g_line_big, g_line_early);
    std::printf("started_late %d\nestimated %d\n", det.started_late() ? 1 : 0,
                now.estimated() ? 1 : 0);
    const Differences by_line = now.compare_to(base, By::lineno);
    print_rows("lineno", by_line);
    print_rows("function", now.compare_to(base, By::function));
    if (!by_line.empty()) std::cout << "TEXT " << by_line.top(1)[0] << '\n';
    std::cout << std::flush;
    using namespace heapwise::literals;
    det.print_report({.top = 10, .min_growth = 100_KiB, .since = &base});
    std::fflush(stdout);
    return 0;
}

int bad_use() {
    LeakDetector det;
    Snapshot a = det.take_snapshot("bad-a");
    Snapshot b = det.take_snapshot("bad-b");
    expect_error("same", [&] { a.compare_to(a); });
    LeakDetector other;
    Snapshot c = other.take_snapshot("bad-c");
    expect_error("foreign", [&] { c.compare_to(a); });
    expect_error("empty", [&] { a.compare_to(Snapshot()); });
    expect_error("filter", [&] { b.compare_to(a, By::lineno, {{"nope:*"}, {}}); });
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child == 0) {
        expect_error("fork-compare", [&] { b.compare_to(a); });
        expect_error("fork-take", [&] { det.take_snapshot(); });
        std::fflush(stdout);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    std::printf("child_exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    std::printf("ok_rows %zu\n", b.compare_to(a).size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "leak";
    int status = 0;
    try {
        status = std::strcmp(mode, "bad-use") == 0 ? bad_use() : leak_run();
    } catch (const DetectorError& e) {
        std::printf("ERROR %s %s\n", code_name(e.code()), e.what());
        status = 3;
    }
    return status;
}
