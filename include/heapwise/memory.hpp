// Memory statistics that are right inside a container: the system (/proc/meminfo), this process
// (/proc/self/status, /proc/self/smaps_rollup) and the effective cgroup limit (v1 or v2, the
// smallest along the hierarchy), each figure tagged with the source it came from.
// A sample reads a few small files with open/read into stack buffers: microseconds, no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "heapwise/export.h"

namespace heapwise {

// Where a figure came from. `none` means the figure is unknown (its file was missing or unreadable).
enum class Source : std::uint8_t {
    none,
    meminfo_available,         // /proc/meminfo MemAvailable
    meminfo_free_buffers_cached,  // /proc/meminfo MemFree+Buffers+Cached (kernels before 3.14)
    meminfo_total,             // /proc/meminfo MemTotal (the limit when no cgroup sets one)
    status_vmrss,              // /proc/self/status VmRSS
    status_vmhwm,              // /proc/self/status VmHWM
    smaps_rollup_pss,          // /proc/self/smaps_rollup Pss
    smaps_rollup_private,      // /proc/self/smaps_rollup Private_Clean + Private_Dirty
    cgroup_v2_max,             // memory.max
    cgroup_v2_high,            // memory.high
    cgroup_v1_limit,           // memory.limit_in_bytes
    cgroup_v2_current,         // memory.current minus inactive_file from memory.stat
    cgroup_v1_usage,           // memory.usage_in_bytes minus total_inactive_file from memory.stat
};

// Stable lower-case name of a source, e.g. "cgroup_v2_max" (the C ABI and logs use it).
HEAPWISE_API const char* to_string(Source s) noexcept;

enum class CgroupVersion : std::uint8_t { none, v1, v2 };

struct SystemMemory {
    std::uint64_t total = 0;      // bytes, MemTotal
    std::uint64_t available = 0;  // bytes, MemAvailable
    std::uint64_t used = 0;       // total - available
    double percent = 0.0;         // used / total * 100
    Source available_source = Source::none;
};

struct ProcessMemory {
    std::uint64_t rss = 0;   // resident set size
    std::uint64_t pss = 0;   // proportional set size (shared pages divided among sharers)
    std::uint64_t uss = 0;   // unique set size: private clean + private dirty pages
    std::uint64_t peak = 0;  // high-water mark of rss
    Source rss_source = Source::none;
    Source pss_source = Source::none;
    Source uss_source = Source::none;
    Source peak_source = Source::none;
};

struct ContainerMemory {
    CgroupVersion version = CgroupVersion::none;
    // The smallest limit from the process's cgroup up to the root of the mounted hierarchy;
    // 0 when no level sets one. `limit_depth` counts levels above the process's own cgroup.
    std::uint64_t limit = 0;
    Source limit_source = Source::none;
    int limit_depth = -1;
    // Usage of the cgroup whose limit applies (the process's own cgroup when none does), the
    // way the kernel's reclaim and `docker stats` count it: charged memory minus inactive file
    // pages, which the kernel drops before it would OOM. `usage_raw` is the charge itself.
    std::uint64_t usage = 0;
    std::uint64_t usage_raw = 0;
    Source usage_source = Source::none;
};

struct MemoryStats {
    SystemMemory system;
    ProcessMemory process;
    ContainerMemory container;
    // The headline: memory in use against the limit that will actually stop this process. With
    // a cgroup limit below MemTotal that is the cgroup's usage against that limit; otherwise the
    // system's used memory against MemTotal.
    std::uint64_t limit = 0;
    std::uint64_t used = 0;
    double percent = 0.0;
    Source limit_source = Source::none;
    Source used_source = Source::none;
};

// Which parts a sample reads; smaps_rollup walks every mapping and is the costly one.
enum class StatsParts : unsigned {
    system = 1,
    process = 2,
    smaps = 4,
    cgroup = 8,
    all = 15,
};
constexpr StatsParts operator|(StatsParts a, StatsParts b) {
    return static_cast<StatsParts>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has_part(StatsParts set, StatsParts p) {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(p)) != 0;
}

// One sample of this process's memory figures.
HEAPWISE_API MemoryStats memory_stats(StatsParts parts = StatsParts::all) noexcept;

// The same, reading every file under `root` ("" is the real filesystem): root + "/proc/meminfo",
// root + "/proc/self/cgroup", and mount points from mountinfo prefixed with root.
HEAPWISE_API MemoryStats read_memory_stats(std::string_view root,
                                           StatsParts parts = StatsParts::all) noexcept;

// The parts on their own (each leaves the fields it does not read untouched).
HEAPWISE_API bool read_system_memory(std::string_view root, SystemMemory& out) noexcept;
HEAPWISE_API bool read_process_memory(std::string_view root, ProcessMemory& out,
                                      bool smaps) noexcept;
HEAPWISE_API bool read_container_memory(std::string_view root, ContainerMemory& out) noexcept;

// The directory of this process's memory cgroup (under root), or "" when there is none.
HEAPWISE_API std::string memory_cgroup_dir(std::string_view root, CgroupVersion* version = nullptr);

}  // namespace heapwise
