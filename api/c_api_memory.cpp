// The C ABI of heapwise::memory_stats(): one sample into a flat C struct, with each figure's
// source as an int whose names come from heapwise::to_string(Source). Also reads fixture trees
// (read_memory_stats with a root) so bindings can test container-limit parsing exactly.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "capi_guard.hpp"
#include "capi_memory.hpp"
#include "heapwise/heapwise.h"
#include "heapwise/memory.hpp"
#include "heapwise/monitor.hpp"

namespace heapwise::api {

void to_c(const MemoryStats& s, heapwise_memory_stats& o) noexcept {
    o = heapwise_memory_stats{};
    o.limit = s.limit;
    o.used = s.used;
    o.percent = s.percent;
    o.limit_source = static_cast<int>(s.limit_source);
    o.used_source = static_cast<int>(s.used_source);
    o.system_total = s.system.total;
    o.system_available = s.system.available;
    o.system_used = s.system.used;
    o.system_percent = s.system.percent;
    o.system_available_source = static_cast<int>(s.system.available_source);
    o.process_rss = s.process.rss;
    o.process_pss = s.process.pss;
    o.process_uss = s.process.uss;
    o.process_peak = s.process.peak;
    o.process_rss_source = static_cast<int>(s.process.rss_source);
    o.process_pss_source = static_cast<int>(s.process.pss_source);
    o.process_uss_source = static_cast<int>(s.process.uss_source);
    o.process_peak_source = static_cast<int>(s.process.peak_source);
    o.cgroup_version = s.container.version == CgroupVersion::v2   ? 2
                       : s.container.version == CgroupVersion::v1 ? 1
                                                                  : 0;
    o.container_limit = s.container.limit;
    o.container_usage = s.container.usage;
    o.container_usage_raw = s.container.usage_raw;
    o.container_limit_source = static_cast<int>(s.container.limit_source);
    o.container_limit_depth = s.container.limit_depth;
    o.container_usage_source = static_cast<int>(s.container.usage_source);
}

namespace {
Source source_from_c(int s) noexcept {
    const bool known = s >= 0 && s <= static_cast<int>(Source::cgroup_v1_usage);
    return known ? static_cast<Source>(s) : Source::none;
}
}  // namespace

MemoryStats from_c(const heapwise_memory_stats& c) noexcept {
    MemoryStats s;
    s.limit = c.limit;
    s.used = c.used;
    s.percent = c.percent;
    s.limit_source = source_from_c(c.limit_source);
    s.used_source = source_from_c(c.used_source);
    s.system.total = c.system_total;
    s.system.available = c.system_available;
    s.system.used = c.system_used;
    s.system.percent = c.system_percent;
    s.system.available_source = source_from_c(c.system_available_source);
    s.process.rss = c.process_rss;
    s.process.pss = c.process_pss;
    s.process.uss = c.process_uss;
    s.process.peak = c.process_peak;
    s.process.rss_source = source_from_c(c.process_rss_source);
    s.process.pss_source = source_from_c(c.process_pss_source);
    s.process.uss_source = source_from_c(c.process_uss_source);
    s.process.peak_source = source_from_c(c.process_peak_source);
    s.container.version = c.cgroup_version == 2   ? CgroupVersion::v2
                          : c.cgroup_version == 1 ? CgroupVersion::v1
                                                  : CgroupVersion::none;
    s.container.limit = c.container_limit;
    s.container.usage = c.container_usage;
    s.container.usage_raw = c.container_usage_raw;
    s.container.limit_source = source_from_c(c.container_limit_source);
    s.container.limit_depth = c.container_limit_depth;
    s.container.usage_source = source_from_c(c.container_usage_source);
    return s;
}

StatsParts parts_from_c(unsigned parts) {
    return parts == 0 ? StatsParts::all : static_cast<StatsParts>(parts);
}

}  // namespace heapwise::api

namespace {
constexpr unsigned kAllParts = HEAPWISE_STATS_ALL;
static_assert(static_cast<unsigned>(heapwise::StatsParts::system) == HEAPWISE_STATS_SYSTEM);
static_assert(static_cast<unsigned>(heapwise::StatsParts::process) == HEAPWISE_STATS_PROCESS);
static_assert(static_cast<unsigned>(heapwise::StatsParts::smaps) == HEAPWISE_STATS_SMAPS);
static_assert(static_cast<unsigned>(heapwise::StatsParts::cgroup) == HEAPWISE_STATS_CGROUP);
static_assert(static_cast<unsigned>(heapwise::StatsParts::all) == HEAPWISE_STATS_ALL);
}  // namespace

extern "C" {

HEAPWISE_API heapwise_status heapwise_memory_stats_get(unsigned parts, heapwise_memory_stats* out) {
    constexpr const char* what = "heapwise_memory_stats_get";
    HW_CAPI_REQUIRE(out != nullptr && (parts & ~kAllParts) == 0, what);
    heapwise::api::to_c(heapwise::memory_stats(heapwise::api::parts_from_c(parts)), *out);
    return HEAPWISE_OK;
}

HEAPWISE_API heapwise_status heapwise_memory_stats_read(const char* root, unsigned parts,
                                                        heapwise_memory_stats* out) {
    constexpr const char* what = "heapwise_memory_stats_read";
    HW_CAPI_REQUIRE(out != nullptr && (parts & ~kAllParts) == 0, what);
    const std::string_view r = root == nullptr ? std::string_view() : std::string_view(root);
    heapwise::api::to_c(heapwise::read_memory_stats(r, heapwise::api::parts_from_c(parts)), *out);
    return HEAPWISE_OK;
}

HEAPWISE_API heapwise_status heapwise_force_cleanup(heapwise_cleanup_step* steps, size_t cap,
                                                    heapwise_cleanup_summary* summary) {
    constexpr const char* what = "heapwise_force_cleanup";
    HW_CAPI_REQUIRE(heapwise::api::valid_span(steps, cap), what);
    return heapwise::api::guarded(what, [&] {
        const heapwise::CleanupReport r = heapwise::force_cleanup();
        for (std::size_t i = 0; i < r.steps.size() && i < cap; ++i) {
            heapwise_cleanup_step& s = steps[i];
            s = heapwise_cleanup_step{};
            const std::size_t n = std::min(r.steps[i].name.size(), sizeof s.name - 1);
            std::memcpy(s.name, r.steps[i].name.data(), n);
            s.bytes = r.steps[i].bytes;
            s.reported = r.steps[i].reported;
        }
        if (summary != nullptr) {
            *summary = heapwise_cleanup_summary{r.total, r.rss_before, r.rss_after, r.steps.size()};
        }
        return r.steps.size() > cap ? HEAPWISE_TOO_SMALL : HEAPWISE_OK;
    });
}

HEAPWISE_API const char* heapwise_source_name(int source) {
    // Source is a closed enum ending at cgroup_v1_usage; a new source must extend this check.
    if (source < 0 || source > static_cast<int>(heapwise::Source::cgroup_v1_usage)) return "";
    return heapwise::to_string(static_cast<heapwise::Source>(source));
}

}  // extern "C"
