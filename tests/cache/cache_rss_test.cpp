// RSS after filling a cache with 256 MiB and clearing it: values in mimalloc go back to the OS,
// values on the system allocator stay resident when the program's own long-lived allocations
// sit above them in glibc's heap (a scraper keeps a little state per page it fetched). Each
// allocator runs in a fresh forked child so neither sees the other's heap.
#include <malloc.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;

namespace {

std::size_t rss_bytes() {
    long pages_total = 0, pages_resident = 0;
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
    return static_cast<std::size_t>(pages_resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct RssResult {
    std::size_t before, full, after;
};

// Fills 256 MiB of 4 KiB values, keeping one small glibc allocation per 64 values as the
// program's own state, clears the cache and measures at once.
RssResult fill_and_clear(Allocator allocator) {
    RssResult r{};
    std::vector<char*> app_state;
    {
        Cache cache({.max_memory = 512_MiB, .max_disk = 0, .allocator = allocator});
        r.before = rss_bytes();
        const std::string value(4096, 'v');
        for (int i = 0; i < 65536; ++i) {
            cache.set("https://example.com/page/" + std::to_string(i), Bytes(std::string_view(value), allocator));
            if (i % 64 == 0) app_state.push_back(static_cast<char*>(std::malloc(200)));
        }
        r.full = rss_bytes();
        cache.clear();  // no trim, no collect: what a plain program gets
        r.after = rss_bytes();
    }
    for (char* p : app_state) std::free(p);
    return r;
}

RssResult in_child(Allocator allocator) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        RssResult r = fill_and_clear(allocator);
        [[maybe_unused]] auto w = ::write(fds[1], &r, sizeof r);
        ::_exit(0);
    }
    ::close(fds[1]);
    RssResult r{};
    [[maybe_unused]] auto n = ::read(fds[0], &r, sizeof r);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return r;
}

}  // namespace

TEST_CASE("clearing a 256 MiB cache returns its memory with mimalloc, not with glibc", "[cache]") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    WARN("RSS is meaningless under a sanitizer's allocator; skipped");
    return;
#endif
    RssResult mi = in_child(Allocator::mimalloc);
    RssResult sys = in_child(Allocator::system);
    auto mib = [](std::size_t b) { return static_cast<double>(b) / (1 << 20); };
    INFO("mimalloc: before " << mib(mi.before) << " MiB, full " << mib(mi.full) << " MiB, after clear " << mib(mi.after) << " MiB");
    INFO("system:   before " << mib(sys.before) << " MiB, full " << mib(sys.full) << " MiB, after clear " << mib(sys.after) << " MiB");
    REQUIRE(mi.full - mi.before > 256_MiB);
    REQUIRE(sys.full - sys.before > 256_MiB);
    // mimalloc: at least 90 % of the growth is gone. glibc: most of it stays.
    REQUIRE(mi.after - mi.before < (mi.full - mi.before) / 10);
    REQUIRE(sys.after - sys.before > (sys.full - sys.before) / 2);
    WARN("RSS growth kept after clear: mimalloc " << mib(mi.after - mi.before) << " MiB of " << mib(mi.full - mi.before)
         << ", system " << mib(sys.after - sys.before) << " MiB of " << mib(sys.full - sys.before));
}
