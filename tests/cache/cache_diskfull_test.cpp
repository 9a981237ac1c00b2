// Disk trouble: a full disk (a small tmpfs when this process may mount one, and always a file
// size limit in a forked child), and a spill directory that vanishes. Each must turn spilling
// off with exactly one warning on stderr while the cache keeps working in memory.
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;

namespace {

constexpr const char* kWarning = "heapwise: cache spilling turned off";

// Fills a cache whose disk will fail; returns a description of the first broken expectation,
// or "" when all held. Runs in the test process or in a child, so it reports instead of asserts.
std::string fill_until_disk_fails(const std::string& spill_dir, StderrCapture& err) {
    Cache cache({.max_memory = 256_KiB, .max_disk = 64_MiB, .spill_dir = spill_dir});
    // Four small values first (they spill fine), then large ones (they hit the limit).
    auto value = [](int i) { return value_of(i < 4 ? 10000 : 60000, 'f'); };
    for (int i = 0; i < 40; ++i) {
        cache.set("k" + std::to_string(i), std::string_view(value(i)));
        if (cache.memory_bytes() > cache.memory_limit()) return "bound broken at set " + std::to_string(i);
    }
    auto st = cache.stats();
    if (st.spill_enabled) return "spilling still on after the disk filled up";
    if (st.disk_errors != 1) return "disk_errors = " + std::to_string(st.disk_errors);
    if (st.spills == 0) return "nothing was spilled before the disk filled";
    // Still works in memory, and what reached disk before the failure is still readable.
    cache.set("after", std::string_view("still works"));
    auto v = cache.get("after");
    if (!v || v->view() != "still works") return "cache unusable after the disk error";
    if (auto first = cache.get("k0"); !first || first->view() != value(0)) return "spilled k0 unreadable";
    err.restore();
    auto n = count_occurrences(err.text(), kWarning);
    if (n != 1) return "warnings on stderr: " + std::to_string(n) + ": " + err.text();
    return "";
}

}  // namespace

TEST_CASE("a full tmpfs turns spilling off with one warning", "[cache]") {
    TempDir dir;
    const std::string mnt = dir.str();
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=512k,mode=0700") != 0) {
        WARN("cannot mount a tmpfs here (" << std::strerror(errno)
                                           << "); the file-size-limit test covers a full disk");
        return;
    }
    std::string problem;
    {
        StderrCapture err;
        problem = fill_until_disk_fails(mnt, err);
    }
    ::umount2(mnt.c_str(), MNT_DETACH);
    REQUIRE(problem == "");
}

TEST_CASE("a file size limit (EFBIG) turns spilling off with one warning", "[cache]") {
    TempDir dir;
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{32 * 1024, 32 * 1024};  // files may not grow past 32 KiB
        ::setrlimit(RLIMIT_FSIZE, &lim);
        std::string problem;
        {
            StderrCapture err;
            try {
                problem = fill_until_disk_fails(dir.str(), err);
            } catch (const std::exception& e) {
                problem = std::string("exception: ") + e.what();
            }
        }
        [[maybe_unused]] auto w = ::write(pipefd[1], problem.data(), problem.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string problem;
    char buf[512];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) problem.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(problem == "");
}

TEST_CASE("a spill directory that disappears turns spilling off with one warning", "[cache]") {
    TempDir dir;
    StderrCapture err;
    Cache cache({.max_memory = 64_KiB, .spill_dir = dir.str()});
    cache.set("before", std::string_view("b"), {.force_disk = true});
    REQUIRE(cache.stats().spill_enabled);
    // Someone removes our directory: the cache keeps its handle on the deleted directory, where
    // nothing can be created any more.
    const std::string p = cache.spill_path();
    fs::remove_all(p);
    for (int i = 0; i < 30; ++i) cache.set("k" + std::to_string(i), std::string_view(value_of(5000, 'x')));
    cache.set("forced", std::string_view("f"), {.force_disk = true});  // kept in memory instead
    err.restore();
    auto st = cache.stats();
    REQUIRE_FALSE(st.spill_enabled);
    REQUIRE(st.disk_errors == 1);
    REQUIRE(count_occurrences(err.text(), kWarning) == 1);
    REQUIRE(cache.get("forced")->view() == "f");
    REQUIRE(cache.memory_bytes() <= cache.memory_limit());
    REQUIRE(cache.get("k29")->view() == value_of(5000, 'x'));
    REQUIRE_FALSE(cache.get("before"));  // its file went with the directory: a counted miss
    REQUIRE(cache.stats().missing == 1);
}
