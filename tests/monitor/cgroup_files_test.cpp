// memory_stats() on this machine's real cgroup filesystem: the cgroup files it reads stay open
// between samples (no descriptor is opened or closed after the first sample), and what it reads
// through them is current, not the first sample's figures. Where no memory cgroup is readable
// there is nothing to check and the test says so.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "heapwise/memory.hpp"

namespace {

namespace fs = std::filesystem;

// This process's open descriptors that point into a cgroup filesystem: fd -> target.
std::map<int, std::string> cgroup_fds() {
    std::map<int, std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
        std::string target = fs::read_symlink(e.path(), ec).string();
        if (!ec && target.rfind("/sys/fs/cgroup/", 0) == 0) {
            out[std::stoi(e.path().filename().string())] = target;
        }
    }
    return out;
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

}  // namespace

TEST_CASE("cgroup files stay open between samples and are read afresh", "[monitor]") {
    const auto first = heapwise::memory_stats();
    if (first.container.usage_source == heapwise::Source::none) {
        WARN("no memory cgroup readable here: nothing to check");
        return;
    }
    const auto kept = cgroup_fds();
    REQUIRE(!kept.empty());  // it read a cgroup file, and kept it
    for (const auto& [fd, target] : kept) {
        INFO(target);
        CHECK(target.find("/memory.") != std::string::npos);
    }
    for (int i = 0; i < 20; ++i) (void)heapwise::memory_stats();
    CHECK(cgroup_fds() == kept);  // the same descriptors, none reopened

    // 256 MiB touched moves the cgroup's usage by about that much; a file read at its old
    // offset, or not at all, would not show it. Other processes in the cgroup (tests run in
    // parallel) add noise of the same order, so the swing must show in one of a few tries.
    const std::size_t size = 256 * kMiB;
    bool moved = false;
    for (int attempt = 0; attempt < 8 && !moved; ++attempt) {
        const auto before = heapwise::memory_stats().container.usage_raw;
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        std::memset(p, 1, size);
        const auto touched = heapwise::memory_stats().container.usage_raw;
        ::munmap(p, size);
        const auto after = heapwise::memory_stats().container.usage_raw;
        moved = touched > before + 128 * kMiB && after + 128 * kMiB < touched;
        if (!moved) ::usleep(50'000);
    }
    CHECK(moved);
    CHECK(cgroup_fds() == kept);
}
