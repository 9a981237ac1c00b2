// memory_stats() over fixture trees of both cgroup versions (exact limits, usages and sources)
// and over the live /proc of this test process.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heapwise/memory.hpp"
#include "temp_dir.hpp"

using heapwise::CgroupVersion;
using heapwise::read_memory_stats;
using heapwise::Source;

namespace {

std::string fixture(const char* name) { return std::string(HW_MONITOR_FIXTURES) + "/" + name; }

constexpr std::uint64_t kKiB = 1024;

}  // namespace

TEST_CASE("meminfo, status and smaps_rollup figures are exact", "[monitor]") {
    auto st = read_memory_stats(fixture("v2_nested"));
    CHECK(st.system.total == 16384000 * kKiB);
    CHECK(st.system.available == 4096000 * kKiB);
    CHECK(st.system.used == 12288000 * kKiB);
    CHECK(st.system.percent == 75.0);
    CHECK(st.system.available_source == Source::meminfo_available);
    CHECK(st.process.rss == 256000 * kKiB);
    CHECK(st.process.peak == 512000 * kKiB);
    CHECK(st.process.pss == 180000 * kKiB);
    CHECK(st.process.uss == (20000 + 150000) * kKiB);
    CHECK(st.process.rss_source == Source::status_vmrss);
    CHECK(st.process.peak_source == Source::status_vmhwm);
    CHECK(st.process.pss_source == Source::smaps_rollup_pss);
    CHECK(st.process.uss_source == Source::smaps_rollup_private);
}

TEST_CASE("cgroup v2: the parent's memory.max binds and its usage counts", "[monitor]") {
    auto st = read_memory_stats(fixture("v2_nested"));
    CHECK(st.container.version == CgroupVersion::v2);
    CHECK(st.container.limit == 536870912);
    CHECK(st.container.limit_source == Source::cgroup_v2_max);
    CHECK(st.container.limit_depth == 1);
    // pod1's memory.current minus its inactive_file, not the leaf's figures
    CHECK(st.container.usage_raw == 419430400);
    CHECK(st.container.usage == 419430400 - 16777216);
    CHECK(st.container.usage_source == Source::cgroup_v2_current);
    CHECK(st.limit == 536870912);
    CHECK(st.limit_source == Source::cgroup_v2_max);
    CHECK(st.used == 402653184);
    CHECK(st.used_source == Source::cgroup_v2_current);
    CHECK(st.percent == 75.0);
    CHECK(heapwise::memory_cgroup_dir(fixture("v2_nested")) ==
          fixture("v2_nested") + "/sys/fs/cgroup/kubepods/pod1/ctr");
}

TEST_CASE("cgroup v2: memory.high below memory.max is the limit; missing memory.stat", "[monitor]") {
    auto st = read_memory_stats(fixture("v2_high"));
    CHECK(st.container.limit == 268435456);
    CHECK(st.container.limit_source == Source::cgroup_v2_high);
    CHECK(st.container.limit_depth == 0);
    CHECK(st.container.usage == 201326592);
    CHECK(st.container.usage_raw == 201326592);
    CHECK(st.percent == 75.0);
}

TEST_CASE("cgroup v2 inside a cgroup namespace reads the mount point itself", "[monitor]") {
    auto st = read_memory_stats(fixture("v2_ns"));
    CHECK(st.container.version == CgroupVersion::v2);
    CHECK(st.container.limit == 2147483648);
    CHECK(st.container.limit_depth == 0);
    CHECK(st.container.usage == 536870912);
    CHECK(st.percent == 25.0);
}

TEST_CASE("a cgroup limit above MemTotal leaves the system as the headline", "[monitor]") {
    auto st = read_memory_stats(fixture("v2_above_ram"));
    CHECK(st.container.limit == 68719476736);
    CHECK(st.limit == 16384000 * kKiB);
    CHECK(st.limit_source == Source::meminfo_total);
    CHECK(st.used == 12288000 * kKiB);
    CHECK(st.used_source == Source::meminfo_available);
    CHECK(st.percent == 75.0);
}

TEST_CASE("cgroup v1 on a hybrid host: smallest limit_in_bytes up the hierarchy", "[monitor]") {
    auto st = read_memory_stats(fixture("v1_nested"));
    CHECK(st.container.version == CgroupVersion::v1);
    CHECK(st.container.limit == 2147483648);
    CHECK(st.container.limit_source == Source::cgroup_v1_limit);
    CHECK(st.container.limit_depth == 1);
    // usage_in_bytes is hierarchical, so the hierarchical total_inactive_file is subtracted
    CHECK(st.container.usage == 1610612736 - 536870912);
    CHECK(st.container.usage_source == Source::cgroup_v1_usage);
    CHECK(st.percent == 50.0);
    CHECK(heapwise::memory_cgroup_dir(fixture("v1_nested")) ==
          fixture("v1_nested") + "/sys/fs/cgroup/memory/docker/abc");
}

TEST_CASE("cgroup v1 mounted at the container's own cgroup", "[monitor]") {
    auto st = read_memory_stats(fixture("v1_mount_root"));
    CHECK(st.container.limit == 268435456);
    CHECK(st.container.limit_depth == 0);
    CHECK(st.container.usage == 134217728);
    CHECK(st.percent == 50.0);
    CHECK(heapwise::memory_cgroup_dir(fixture("v1_mount_root")) ==
          fixture("v1_mount_root") + "/sys/fs/cgroup/memory");
}

TEST_CASE("no MemAvailable, no smaps_rollup, no cgroup: fallbacks and unknowns", "[monitor]") {
    auto st = read_memory_stats(fixture("bare"));
    CHECK(st.system.total == 8000000 * kKiB);
    CHECK(st.system.available == 4000000 * kKiB);
    CHECK(st.system.available_source == Source::meminfo_free_buffers_cached);
    CHECK(st.process.pss_source == Source::none);
    CHECK(st.process.uss_source == Source::none);
    CHECK(st.process.pss == 0);
    CHECK(st.container.version == CgroupVersion::none);
    CHECK(st.container.limit == 0);
    CHECK(st.container.limit_source == Source::none);
    CHECK(st.limit_source == Source::meminfo_total);
    CHECK(st.percent == 50.0);
    CHECK(std::string(heapwise::to_string(st.limit_source)) == "meminfo_total");
}

TEST_CASE("a missing root gives zeros and no sources, not a crash", "[monitor]") {
    auto st = read_memory_stats("/nonexistent/heapwise-root");
    CHECK(st.system.total == 0);
    CHECK(st.limit == 0);
    CHECK(st.percent == 0.0);
    CHECK(st.limit_source == Source::none);
}

TEST_CASE("a mountinfo far larger than the read buffer is parsed in pieces", "[monitor]") {
    hwtest::TempDir tmp;
    auto root = tmp.path();
    std::filesystem::copy(fixture("v1_nested"), root, std::filesystem::copy_options::recursive);
    {
        std::ofstream out(root / "proc/self/mountinfo", std::ios::trunc);
        for (int i = 0; i < 400; ++i)
            out << 100 + i << " 31 0:" << 50 + i << " / /mnt/volume" << i
                << " rw,relatime shared:1 - ext4 /dev/vdb" << i << " rw\n";
        out << std::string(6000, 'x') << "\n";  // one line longer than the buffer: skipped
        out << "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
    }
    auto st = read_memory_stats(root.string());
    CHECK(st.container.limit == 2147483648);
    CHECK(st.container.usage == 1073741824);
}

TEST_CASE("live sample: this process's RSS follows memory it touches", "[monitor]") {
    auto before = heapwise::memory_stats();
    REQUIRE(before.system.total > 0);
    REQUIRE(before.process.rss_source == Source::status_vmrss);
    REQUIRE(before.process.rss > 0);
    CHECK(before.process.peak >= before.process.rss);
    CHECK(before.limit > 0);
    CHECK(before.percent > 0.0);
    CHECK(before.percent <= 100.0);

    constexpr std::size_t kSize = 64u << 20;
    auto* block = static_cast<char*>(std::malloc(kSize));
    REQUIRE(block);
    std::memset(block, 1, kSize);
    auto after = heapwise::memory_stats(heapwise::StatsParts::process);
    CHECK(after.process.rss >= before.process.rss + kSize - (4u << 20));
    CHECK(after.system.total == 0);  // only the process part was read
    volatile char sink = block[kSize / 2];
    (void)sink;
    std::free(block);
}

TEST_CASE("a process moved to another cgroup is followed on the next sample", "[monitor]") {
    hwtest::TempDir tmp;
    auto root = tmp.path();
    std::filesystem::copy(fixture("v1_nested"), root, std::filesystem::copy_options::recursive);
    auto st = read_memory_stats(root.string());
    CHECK(st.container.limit_depth == 1);
    CHECK(heapwise::memory_cgroup_dir(root.string()) == root.string() + "/sys/fs/cgroup/memory/docker/abc");
    {
        std::ofstream out(root / "proc/self/cgroup", std::ios::trunc);
        out << "4:memory:/docker\n0::/\n";
    }
    st = read_memory_stats(root.string());
    CHECK(st.container.limit == 2147483648);
    CHECK(st.container.limit_depth == 0);  // the limit is now the process's own cgroup's
    CHECK(st.container.usage == 1073741824);
}
