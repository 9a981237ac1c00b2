// memory_stats(): system figures from /proc/meminfo, process figures from /proc/self/status and
// /proc/self/smaps_rollup, the container part from cgroup.cpp, and the headline percent.
// Runs on the sampling path: stack buffers and raw reads only, never allocates or throws.
#include "heapwise/memory.hpp"

#include "memory_read.hpp"

namespace heapwise {

using api::parse_kb_field;
using api::PathBuf;

const char* to_string(Source s) noexcept {
    switch (s) {
        case Source::none: return "none";
        case Source::meminfo_available: return "meminfo_available";
        case Source::meminfo_free_buffers_cached: return "meminfo_free_buffers_cached";
        case Source::meminfo_total: return "meminfo_total";
        case Source::status_vmrss: return "status_vmrss";
        case Source::status_vmhwm: return "status_vmhwm";
        case Source::smaps_rollup_pss: return "smaps_rollup_pss";
        case Source::smaps_rollup_private: return "smaps_rollup_private";
        case Source::cgroup_v2_max: return "cgroup_v2_max";
        case Source::cgroup_v2_high: return "cgroup_v2_high";
        case Source::cgroup_v1_limit: return "cgroup_v1_limit";
        case Source::cgroup_v2_current: return "cgroup_v2_current";
        case Source::cgroup_v1_usage: return "cgroup_v1_usage";
    }
    return "unknown";
}

bool read_system_memory(std::string_view root, SystemMemory& out) noexcept {
    PathBuf path;
    path.add(root).add("/proc/meminfo");
    if (!path.ok()) return false;
    std::uint64_t total = 0, available = 0, free = 0, buffers = 0, cached = 0;
    bool has_total = false, has_available = false;
    unsigned seen = 0;
    bool read = api::for_each_line(path.c_str(), [&](std::string_view line) {
        if (parse_kb_field(line, "MemTotal", total)) has_total = true, ++seen;
        else if (parse_kb_field(line, "MemAvailable", available)) has_available = true, ++seen;
        else if (parse_kb_field(line, "MemFree", free)) ++seen;
        else if (parse_kb_field(line, "Buffers", buffers)) ++seen;
        else if (parse_kb_field(line, "Cached", cached)) ++seen;
        return seen < 5;  // these five sit at the top of the file: stop reading there
    });
    if (!read || !has_total || total == 0) return false;
    out.total = total;
    if (has_available) {
        out.available = available;
        out.available_source = Source::meminfo_available;
    } else {
        // Kernels before 3.14 have no MemAvailable; this is the estimate they used to suggest.
        out.available = free + buffers + cached;
        out.available_source = Source::meminfo_free_buffers_cached;
    }
    if (out.available > total) out.available = total;
    out.used = total - out.available;
    out.percent = 100.0 * static_cast<double>(out.used) / static_cast<double>(total);
    return true;
}

bool read_process_memory(std::string_view root, ProcessMemory& out, bool smaps) noexcept {
    PathBuf path;
    path.add(root).add("/proc/self/status");
    if (!path.ok()) return false;
    bool any = false;
    int seen = 0;
    api::for_each_line(path.c_str(), [&](std::string_view line) {
        if (parse_kb_field(line, "VmHWM", out.peak)) {
            out.peak_source = Source::status_vmhwm;
            ++seen;
        } else if (parse_kb_field(line, "VmRSS", out.rss)) {
            out.rss_source = Source::status_vmrss;
            ++seen;
        }
        return seen < 2;
    });
    any = seen > 0;
    if (!smaps) return any;

    // smaps_rollup (Linux 4.14+) sums every mapping's counters in the kernel; it may be
    // unreadable (ptrace access checks, older kernels), in which case PSS/USS stay unknown.
    path.truncate(root.size());
    path.add("/proc/self/smaps_rollup");
    if (!path.ok()) return any;
    std::uint64_t pss = 0, priv_clean = 0, priv_dirty = 0, v = 0;
    bool has_pss = false, has_clean = false, has_dirty = false;
    api::for_each_line(path.c_str(), [&](std::string_view line) {
        if (parse_kb_field(line, "Pss", v)) pss = v, has_pss = true;
        else if (parse_kb_field(line, "Private_Clean", v)) priv_clean = v, has_clean = true;
        else if (parse_kb_field(line, "Private_Dirty", v)) priv_dirty = v, has_dirty = true;
        return !(has_pss && has_clean && has_dirty);
    });
    if (has_pss) {
        out.pss = pss;
        out.pss_source = Source::smaps_rollup_pss;
        any = true;
    }
    if (has_clean && has_dirty) {
        out.uss = priv_clean + priv_dirty;
        out.uss_source = Source::smaps_rollup_private;
        any = true;
    }
    return any;
}

MemoryStats read_memory_stats(std::string_view root, StatsParts parts) noexcept {
    MemoryStats st;
    // The headline needs MemTotal to cap a cgroup limit, so the system part is always read
    // when the cgroup part is.
    if (has_part(parts, StatsParts::system) || has_part(parts, StatsParts::cgroup))
        read_system_memory(root, st.system);
    if (has_part(parts, StatsParts::process) || has_part(parts, StatsParts::smaps))
        read_process_memory(root, st.process, has_part(parts, StatsParts::smaps));
    if (has_part(parts, StatsParts::cgroup)) read_container_memory(root, st.container);

    const ContainerMemory& c = st.container;
    bool cgroup_binds = c.limit != 0 && c.usage_source != Source::none &&
                        (st.system.total == 0 || c.limit < st.system.total);
    if (cgroup_binds) {
        st.limit = c.limit;
        st.limit_source = c.limit_source;
        st.used = c.usage;
        st.used_source = c.usage_source;
    } else if (st.system.total != 0) {
        st.limit = st.system.total;
        st.limit_source = Source::meminfo_total;
        st.used = st.system.used;
        st.used_source = st.system.available_source;
    }
    if (st.limit != 0)
        st.percent = 100.0 * static_cast<double>(st.used) / static_cast<double>(st.limit);
    return st;
}

MemoryStats memory_stats(StatsParts parts) noexcept { return read_memory_stats("", parts); }

}  // namespace heapwise
