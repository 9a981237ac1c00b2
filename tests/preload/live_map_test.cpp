// The writer's live aggregation as a unit: LiveMap against std::unordered_map under random
// inserts and erases (through growth and backward-shift deletions), and LiveAggregator against
// the analyzer's HeapReplay fed the very same events (reallocs that fail, frees of unknown
// addresses, allocations of live addresses, the internal stack, sampled weights): the per-stack
// figures must be identical, since a live snapshot and an offline replay must agree.
#include <catch2/catch.hpp>
#include <random>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/heap_replay.hpp"
#include "heapwise/sampling.hpp"
#include "live_map.hpp"

namespace hp = heapwise::preload;
namespace hwa = heapwise::analyzer;
namespace fmt = heapwise::format;

TEST_CASE("LiveMap matches a std::unordered_map through growth and deletions", "[preload][live]") {
    hp::LiveMap map;
    std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> ref;
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> keys;
    for (int i = 0; i < 300000; ++i) {
        const bool add = keys.empty() || rng() % 100 < 60;
        if (add) {
            // Addresses like an allocator's: 16-byte aligned, clustered, with collisions.
            const std::uint64_t addr = 0x10000 + (rng() % 200000) * 16;
            const std::uint64_t size = rng() % 4096 + 1;
            const auto stack = static_cast<std::uint32_t>(rng() % 50 + 1);
            hp::LiveMap::Block old{};
            const bool replaced = map.insert(addr, size, stack, &old);
            const auto it = ref.find(addr);
            REQUIRE(replaced == (it != ref.end()));
            if (replaced) {
                REQUIRE(old.size == it->second.first);
                REQUIRE(old.stack == it->second.second);
            } else {
                keys.push_back(addr);
            }
            ref[addr] = {size, stack};
        } else {
            const std::size_t k = rng() % keys.size();
            const std::uint64_t addr = keys[k];
            keys[k] = keys.back();
            keys.pop_back();
            hp::LiveMap::Block out{};
            REQUIRE(map.erase(addr, &out));
            REQUIRE(out.size == ref[addr].first);
            ref.erase(addr);
            REQUIRE_FALSE(map.erase(addr, &out));
        }
    }
    REQUIRE(map.size() == ref.size());
    CHECK(map.capacity() >= 2 * map.size());
    CHECK_FALSE(map.failed());
    for (const auto& [addr, v] : ref) {
        const hp::LiveMap::Block* b = map.find(addr);
        REQUIRE(b != nullptr);
        REQUIRE(b->size == v.first);
        REQUIRE(b->stack == v.second);
    }
    CHECK(map.find(0x8) == nullptr);
    map.destroy();
    CHECK(map.size() == 0);
    CHECK(map.find(0x10000) == nullptr);
}

namespace {

// Feeds one event to both sides.
struct Twin {
    hp::LiveAggregator live;
    hwa::HeapReplay replay;
    std::unordered_map<std::uint32_t, hp::LivePending> pending;  // by thread
    std::uint64_t t = 0;

    Twin(std::uint64_t interval, std::uint32_t internal) {
        live.reset(interval, internal);
        hwa::ProcessInfo info;
        info.mode = interval != 0 ? fmt::Mode::kSampled : fmt::Mode::kLossless;
        info.sample_interval = interval;
        replay.on_process_info(info);
        if (internal != 0) replay.on_internal_stack(hwa::InternalStack{hwa::StackId{internal}});
    }
    ~Twin() { live.destroy(); }
    Twin(const Twin&) = delete;
    Twin& operator=(const Twin&) = delete;
    void alloc(std::uint32_t thread, std::uint64_t addr, std::uint64_t size, std::uint32_t stack) {
        live.on_alloc(pending[thread], addr, size, stack);
        replay.on_alloc({++t, hwa::ThreadId{thread}, addr, size, hwa::StackId{stack}, fmt::AllocFn::kMalloc});
    }
    void free(std::uint32_t thread, std::uint64_t addr, bool realloc) {
        live.on_free(pending[thread], addr, realloc);
        replay.on_free({++t, hwa::ThreadId{thread}, addr, realloc ? fmt::FreeFn::kRealloc : fmt::FreeFn::kFree});
    }
    void realloc_failed(std::uint32_t thread, std::uint64_t addr) {
        live.on_realloc_failed(pending[thread], addr);
        replay.on_realloc_failed({++t, hwa::ThreadId{thread}, addr});
    }
    // Every stack's figures equal; the snapshot's totals equal the replay's.
    void require_same(std::uint32_t internal) {
        const hwa::Snapshot s = replay.snapshot("now");
        heapwise_live_snapshot snap{};
        REQUIRE(live.snapshot(snap));
        std::size_t listed = 0;
        for (const auto& [stack, u] : s.stacks) {
            const auto id = static_cast<std::uint32_t>(stack);
            REQUIRE(id != internal);
            const hp::LiveUsage* lu = live.usage(id);
            REQUIRE(lu != nullptr);
            INFO("stack " << id);
            REQUIRE(lu->live_bytes == u.live_bytes);
            REQUIRE(lu->live_count == u.live_count);
            REQUIRE(lu->allocs == u.allocs);
            REQUIRE(lu->bytes_allocated == u.bytes_allocated);
            if (u.allocs != 0 || u.live_count != 0) ++listed;
        }
        CHECK(snap.nsites == listed);
        CHECK(snap.live_bytes == s.live_bytes);
        CHECK(snap.live_count == s.live_count);
        for (std::uint64_t i = 1; i < snap.nsites; ++i) CHECK(snap.sites[i - 1].stack < snap.sites[i].stack);
        hp::live_release_sites(snap);
        CHECK(snap.sites == nullptr);
    }
};

}  // namespace

TEST_CASE("LiveAggregator applies HeapReplay's rules exactly", "[preload][live]") {
    const std::uint64_t interval = GENERATE(std::uint64_t{0}, std::uint64_t{4096});
    constexpr std::uint32_t kInternal = 7;
    Twin twin(interval, kInternal);
    std::mt19937_64 rng(interval + 1);
    std::vector<std::uint64_t> live;
    for (int i = 0; i < 50000; ++i) {
        const auto thread = static_cast<std::uint32_t>(rng() % 4);
        const unsigned op = static_cast<unsigned>(rng() % 100);
        if (op < 45 || live.empty()) {
            const std::uint64_t addr = 0x1000 + (rng() % 5000) * 32;  // reuse, and some collisions
            const auto stack = static_cast<std::uint32_t>(rng() % 12);  // 0 and the internal one too
            twin.alloc(thread, addr, rng() % 10000 + 1, stack);
            live.push_back(addr);
        } else if (op < 80) {
            const std::size_t k = rng() % live.size();
            twin.free(thread, live[k], false);
            live[k] = live.back();
            live.pop_back();
        } else if (op < 90) {  // realloc: free, then a new block or a failure that restores
            const std::size_t k = rng() % live.size();
            const std::uint64_t old = live[k];
            twin.free(thread, old, true);
            if (rng() % 2 == 0) {
                twin.realloc_failed(thread, old);
            } else {
                live[k] = 0x1000 + (rng() % 5000) * 32;
                twin.alloc(thread, live[k], rng() % 10000 + 1, static_cast<std::uint32_t>(rng() % 12));
            }
        } else if (op < 95) {
            twin.free(thread, 0x900000 + (rng() % 100) * 16, rng() % 2 == 0);  // never allocated
        } else {
            twin.realloc_failed(thread, live[rng() % live.size()]);  // no realloc free before it
        }
        if (i % 10000 == 9999) twin.require_same(kInternal);
    }
    twin.require_same(kInternal);
}

TEST_CASE("a failed realloc restores the block for its own thread only", "[preload][live]") {
    Twin twin(0, 0);
    twin.alloc(1, 0x1000, 100, 3);
    twin.free(1, 0x1000, true);
    twin.free(2, 0x2000, false);       // another thread's event does not forget thread 1's
    twin.realloc_failed(2, 0x1000);    // not thread 2's realloc: nothing restored
    REQUIRE(twin.live.usage(3)->live_count == 0);
    twin.realloc_failed(1, 0x1000);
    REQUIRE(twin.live.usage(3)->live_bytes == 100);
    REQUIRE(twin.live.usage(3)->live_count == 1);
    REQUIRE(twin.live.usage(3)->allocs == 1);
    twin.require_same(0);
}

TEST_CASE("sampled blocks weigh by heapwise/sampling.hpp", "[preload][live]") {
    const fmt::SampleWeight small = fmt::sample_weight(512, 524288);
    // p = 1 - exp(-512/524288) ~ 0.000976: one sampled 512-byte block stands for ~1024.5 blocks.
    CHECK(small.count == 1025);
    CHECK(small.bytes == 524544);
    CHECK(fmt::sample_weight(4 << 20, 524288).count == 1);  // large blocks are all but certain
    CHECK(fmt::sample_weight(100, 0).bytes == 100);
    hp::LiveAggregator live;
    live.reset(524288, 0);
    hp::LivePending p;
    live.on_alloc(p, 0x1000, 512, 1);
    live.on_alloc(p, 0x2000, 512, 1);
    CHECK(live.usage(1)->live_count == 2 * small.count);
    CHECK(live.usage(1)->live_bytes == 2 * small.bytes);
    live.on_free(p, 0x1000, false);
    CHECK(live.usage(1)->live_bytes == small.bytes);
    CHECK(live.usage(1)->allocs == 2 * small.count);
    live.destroy();
}
