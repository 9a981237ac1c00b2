// force_cleanup(): spill every cache, then return free heap memory to the OS from glibc's
// malloc (malloc_trim) and from mimalloc (mi_collect), measuring RSS around each step.
#include <malloc.h>
#include <mimalloc.h>

#include "attach_link.hpp"
#include "heapwise/cache.hpp"
#include "heapwise/memory.hpp"
#include "heapwise/monitor.hpp"

namespace heapwise {

namespace api {

void trim_allocators() noexcept {
    ::malloc_trim(0);
    ::mi_collect(true);
}

}  // namespace api

namespace {

std::uint64_t rss_now() { return memory_stats(StatsParts::process).process.rss; }

}  // namespace

CleanupReport force_cleanup() {
    CleanupReport report;
    report.rss_before = rss_now();
    std::uint64_t before = report.rss_before;
    auto step = [&](const char* name, auto&& fn) {
        std::uint64_t reported = fn();
        std::uint64_t after = rss_now();
        report.steps.push_back({name, static_cast<std::int64_t>(before) - static_cast<std::int64_t>(after), reported});
        before = after;
    };
    step("shrink_caches", [] { return static_cast<std::uint64_t>(shrink_all_caches("force_cleanup")); });
    step("malloc_trim", [] {
        ::malloc_trim(0);  // returns only whether anything was released
        return std::uint64_t{0};
    });
    step("mi_collect", [] {
        ::mi_collect(true);
        return std::uint64_t{0};
    });
    report.rss_after = before;
    report.total = static_cast<std::int64_t>(report.rss_before) - static_cast<std::int64_t>(report.rss_after);
    return report;
}

}  // namespace heapwise
