// force_cleanup() with a real cache in a temp spill dir: its steps, the bytes the cache step
// moved out of memory, and RSS measured around each step adding up to the total.
#include <catch2/catch.hpp>

#include <numeric>
#include <string>

#include "heapwise/cache.hpp"
#include "heapwise/monitor.hpp"
#include "temp_dir.hpp"

using namespace heapwise::literals;

TEST_CASE("force_cleanup spills caches, trims the allocators and measures each step",
          "[monitor]") {
    hwtest::TempDir tmp;
    heapwise::CacheOptions o;
    o.max_memory = 64_MiB;
    o.max_disk = 256_MiB;
    o.spill_dir = tmp.path().string();
    heapwise::Cache cache(o);
    for (int i = 0; i < 32; ++i) cache.set("blob-" + std::to_string(i), std::string(1_MiB, 'z'));
    const std::size_t in_memory = cache.memory_bytes();
    REQUIRE(in_memory >= 32_MiB);

    auto report = heapwise::force_cleanup();
    REQUIRE(report.steps.size() == 3);
    CHECK(report.steps[0].name == "shrink_caches");
    CHECK(report.steps[1].name == "malloc_trim");
    CHECK(report.steps[2].name == "mi_collect");
    // The only live cache in this process: all its values left memory (the bookkeeping of the
    // entries now on disk stays).
    CHECK(cache.stats().memory_items == 0);
    CHECK(report.steps[0].reported == in_memory - cache.memory_bytes());
    CHECK(cache.stats().disk_items == 32);
    std::int64_t sum = 0;
    for (const auto& s : report.steps) sum += s.bytes;
    CHECK(sum == report.total);
    CHECK(report.total == static_cast<std::int64_t>(report.rss_before) -
                              static_cast<std::int64_t>(report.rss_after));
    // The 32 MiB of values left memory and went back to the OS.
    CHECK(report.total >= static_cast<std::int64_t>(16_MiB));
    auto v = cache.get("blob-7");
    REQUIRE(v);
    CHECK(v->size() == 1_MiB);
}
