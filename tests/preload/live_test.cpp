// The live view in process, without LD_PRELOAD: Tracer::start, record_* around the real allocator
// as the hooks do, then live snapshots. Exact bytes and counts per call site, equality with the
// analyzer's replay of the same trace to each snapshot's marker (while other threads allocate),
// a late start that ignores earlier blocks, the internal bracket, and the failure paths.
#include <errno.h>
#include <stdlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/replay/grouping.hpp"
#include "analyzer/replay/replay.hpp"
#include "live.hpp"
#include "state.hpp"
#include "trace_decode.hpp"
#include "tracer.hpp"

namespace hp = heapwise::preload;
namespace hwa = heapwise::analyzer;
namespace fmt = heapwise::format;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/hw-live-XXXXXX";
        REQUIRE(mkdtemp(t) != nullptr);
        path = t;
    }
    ~TempDir() {
        const std::string cmd = "rm -rf '" + path + "'";
        (void)!system(cmd.c_str());
    }
};

[[gnu::noinline]] void* traced_malloc(std::size_t n) {
    void* p = malloc(n);
    hp::Tracer::record_alloc(p, n, fmt::AllocFn::kMalloc);
    return p;
}
[[gnu::noinline]] void traced_free(void* p) {
    hp::Tracer::record_free(p, fmt::FreeFn::kFree);
    free(p);
}
// Two call sites of their own: each is the first frame of one stack.
[[gnu::noinline]] void* site_a(std::size_t n) { return traced_malloc(n); }
[[gnu::noinline]] void* site_b(std::size_t n) { return traced_malloc(n); }
template <int T>
[[gnu::noinline]] void* thread_site(std::size_t n) {
    void* p = traced_malloc(n);
    asm volatile("" ::: "memory");  // a frame of its own per thread: no tail call
    return p;
}

hp::Options live_options(bool live) {
    hp::Options o;
    o.rss_interval_ns = 0;
    o.live = live;
#if defined(__SANITIZE_THREAD__)
    o.unwinder = fmt::Unwinder::kFramePointer;  // see tracer_test.cpp
#endif
    return o;
}

// The one site whose allocations are exactly (allocs, bytes_allocated); nullptr otherwise.
const heapwise_live_site* site_with(const heapwise_live_snapshot& s, std::uint64_t allocs, std::uint64_t bytes) {
    const heapwise_live_site* hit = nullptr;
    for (std::uint64_t i = 0; i < s.nsites; ++i) {
        if (s.sites[i].allocs == allocs && s.sites[i].bytes_allocated == bytes) {
            if (hit != nullptr) return nullptr;
            hit = &s.sites[i];
        }
    }
    return hit;
}

// The live snapshot equals the analyzer's replay of the trace to the marker, stack by stack.
void require_same_as_replay(const heapwise_live_snapshot& live, const hwa::Snapshot& replayed) {
    std::uint64_t listed = 0;
    for (const auto& [stack, u] : replayed.stacks) {
        if (u.allocs == 0 && u.live_count == 0) continue;
        ++listed;
        const heapwise_live_site* s = nullptr;
        for (std::uint64_t i = 0; i < live.nsites; ++i) {
            if (live.sites[i].stack == static_cast<std::uint32_t>(stack)) s = &live.sites[i];
        }
        INFO("stack " << static_cast<std::uint32_t>(stack));
        REQUIRE(s != nullptr);
        CHECK(s->live_bytes == u.live_bytes);
        CHECK(s->live_count == u.live_count);
        CHECK(s->allocs == u.allocs);
        CHECK(s->bytes_allocated == u.bytes_allocated);
    }
    CHECK(listed == live.nsites);
    CHECK(live.live_bytes == replayed.live_bytes);
    CHECK(live.live_count == replayed.live_count);
}

}  // namespace

TEST_CASE("a live snapshot has exact figures per call site and matches the replay", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/t.hwt";
    REQUIRE(hp::Tracer::start(live_options(true), path.c_str()));
    CHECK(hp::live_enable() == 1);  // on since the start
    std::vector<void*> keep;
    for (int i = 0; i < 10; ++i) keep.push_back(site_a(100));
    for (int i = 0; i < 5; ++i) traced_free(site_b(1000));
    heapwise_live_snapshot s{};
    REQUIRE(hp::live_snapshot("first", &s) == 0);
    CHECK(s.abi == HEAPWISE_LIVE_ABI);
    CHECK(s.pid == static_cast<std::uint32_t>(getpid()));
    CHECK(s.since_ns == 0);
    CHECK(s.sample_interval == 0);
    CHECK(s.lost_events == 0);
    CHECK(s.live_bytes == 1000);
    CHECK(s.live_count == 10);
    const heapwise_live_site* a = site_with(s, 10, 1000);
    const heapwise_live_site* b = site_with(s, 5, 5000);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK(a->live_bytes == 1000);
    CHECK(a->live_count == 10);
    CHECK(b->live_bytes == 0);
    CHECK(b->live_count == 0);
    // The stacks' frames: the full depth, leaf first (checked against the file below).
    std::uintptr_t fa[64], fb[64];
    const int na = hp::live_stack_frames(a->stack, fa, 64);
    const int nb = hp::live_stack_frames(b->stack, fb, 64);
    REQUIRE(na > 2);
    REQUIRE(nb > 2);
    CHECK(hp::live_stack_frames(a->stack, fa, 1) == na);  // depth reported past max
    CHECK(hp::live_stack_frames(a->stack, fa, 64) == na);
    CHECK(hp::live_stack_frames(0, fa, 64) == -1);
    CHECK(hp::live_stack_frames(1u << 30, fa, 64) == -1);
    CHECK(hp::live_stack_frames(hp::g.internal_stack, fa, 64) == 0);
    for (void* p : keep) traced_free(p);
    heapwise_live_snapshot s2{};
    REQUIRE(hp::live_snapshot("second", &s2) == 0);
    CHECK(s2.live_bytes == 0);
    CHECK(s2.time_ns > s.time_ns);
    hp::Tracer::stop(fmt::EndReason::kExit);

    const auto recs = hwtest::read_trace(path);
    const auto file_a = hwtest::full_stack(recs, a->stack);
    const auto file_b = hwtest::full_stack(recs, b->stack);
    CHECK(std::vector<std::uint64_t>(fa, fa + na) == file_a);
    CHECK(std::vector<std::uint64_t>(fb, fb + nb) == file_b);
    CHECK(file_a != file_b);

    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("first"), hwa::parse_point("second")};
    const hwa::ReplayResult r = hwa::replay_trace(path, req);
    require_same_as_replay(s, r.points[0]);
    require_same_as_replay(s2, r.points[1]);
    CHECK(r.facts.free_of_unknown == 0);
    hp::live_release(&s);
    hp::live_release(&s2);
    CHECK(s.sites == nullptr);
    CHECK(s.nsites == 0);
}

TEST_CASE("snapshots while other threads allocate are exact", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/mt.hwt";
    hp::Options o = live_options(true);
    o.ring_size = 256;  // producers wait for the writer now and then: the lossless path
    REQUIRE(hp::Tracer::start(o, path.c_str()));
    constexpr int kThreads = 3;
    constexpr int kSnapshots = 12;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> done[kThreads] = {};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<void*> mine;
            const std::size_t size = 24 + static_cast<std::size_t>(t) * 8;  // one size per thread
            for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed) && i < 200000; ++i) {
                mine.push_back(t == 0 ? thread_site<0>(size) : t == 1 ? thread_site<1>(size) : thread_site<2>(size));
                if (i % 3 == 2) {
                    traced_free(mine.back());
                    mine.pop_back();
                }
                done[t].store(i + 1, std::memory_order_release);
            }
            for (void* p : mine) traced_free(p);
        });
    }
    std::vector<heapwise_live_snapshot> snaps(kSnapshots);
    std::vector<std::uint64_t> before(kSnapshots * kThreads), after(kSnapshots * kThreads);
    for (int k = 0; k < kSnapshots; ++k) {
        for (int t = 0; t < kThreads; ++t) before[k * kThreads + t] = done[t].load(std::memory_order_acquire);
        REQUIRE(hp::live_snapshot(("mt-" + std::to_string(k)).c_str(), &snaps[k]) == 0);
        for (int t = 0; t < kThreads; ++t) after[k * kThreads + t] = done[t].load(std::memory_order_acquire);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stop = true;
    for (auto& w : workers) w.join();
    hp::Tracer::stop(fmt::EndReason::kExit);
    // Every allocation finished before the call is in the snapshot, and none begun after it
    // returned (a thread may be between its push and its counter: one more).
    for (int k = 0; k < kSnapshots; ++k) {
        for (int t = 0; t < kThreads; ++t) {
            std::uint64_t allocs = 0;
            const std::uint64_t size = 24 + static_cast<std::uint64_t>(t) * 8;
            for (std::uint64_t i = 0; i < snaps[k].nsites; ++i) {
                if (snaps[k].sites[i].allocs != 0 && snaps[k].sites[i].bytes_allocated == snaps[k].sites[i].allocs * size) {
                    allocs += snaps[k].sites[i].allocs;
                }
            }
            CHECK(allocs >= before[k * kThreads + t]);
            CHECK(allocs <= after[k * kThreads + t] + 1);
        }
    }
    hwa::ReplayRequest req;
    for (int k = 0; k < kSnapshots; ++k) req.points.push_back(hwa::parse_point("mt-" + std::to_string(k)));
    const hwa::ReplayResult r = hwa::replay_trace(path, req);
    CHECK(r.facts.free_of_unknown == 0);
    CHECK(r.facts.alloc_of_live == 0);
    for (int k = 0; k < kSnapshots; ++k) {
        INFO("snapshot " << k);
        require_same_as_replay(snaps[k], r.points[static_cast<std::size_t>(k)]);
        hp::live_release(&snaps[k]);
    }
}

TEST_CASE("aggregation started late ignores the blocks before it", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/late.hwt";
    REQUIRE(hp::Tracer::start(live_options(false), path.c_str()));
    heapwise_live_snapshot s{};
    errno = 0;
    CHECK(hp::live_snapshot("off", &s) == -1);
    CHECK(errno == EINVAL);
    void* early = site_a(300);
    void* early2 = site_a(300);
    REQUIRE(hp::live_enable() == 0);
    CHECK(hp::live_enable() == 0);  // on, but not since the start
    traced_free(early);             // unknown to the view: ignored, never negative
    void* late = site_b(700);
    REQUIRE(hp::live_snapshot("late", &s) == 0);
    CHECK(s.since_ns != 0);
    CHECK(s.live_bytes == 700);
    CHECK(s.live_count == 1);
    REQUIRE(s.nsites == 1);
    CHECK(s.sites[0].allocs == 1);
    CHECK(s.sites[0].bytes_allocated == 700);
    hp::live_release(&s);
    traced_free(late);
    traced_free(early2);
    hp::Tracer::stop(fmt::EndReason::kExit);
    errno = 0;
    CHECK(hp::live_snapshot("stopped", &s) == -1);
    CHECK(errno == ENOSYS);
    CHECK(hp::live_enable() == -1);
}

TEST_CASE("internal allocations stay out of snapshots and of the analyzer's groups", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/internal.hwt";
    REQUIRE(hp::Tracer::start(live_options(true), path.c_str()));
    void* user = site_a(111);
    const int outer = hp::internal_begin();
    void* own = site_a(5000);
    const int inner = hp::internal_begin();  // nested
    void* own2 = site_b(6000);
    hp::internal_end(inner);
    void* own3 = traced_malloc(7000);
    hp::internal_end(outer);
    void* user2 = site_b(222);
    heapwise_live_snapshot s{};
    REQUIRE(hp::live_snapshot("with-internal", &s) == 0);
    CHECK(s.live_bytes == 333);
    CHECK(s.live_count == 2);
    CHECK(s.nsites == 2);
    for (std::uint64_t i = 0; i < s.nsites; ++i) CHECK(s.sites[i].stack != hp::g.internal_stack);
    hp::live_release(&s);
    traced_free(own);  // recorded normally: the trace stays consistent
    traced_free(own2);
    traced_free(own3);
    traced_free(user);
    traced_free(user2);
    hp::Tracer::stop(fmt::EndReason::kExit);

    // In the file: the empty stack record and kInternalStack before the first use of the id.
    const auto recs = hwtest::read_trace(path);
    bool stack_seen = false, marked = false, used_after_mark = false, used_before_mark = false;
    for (const auto& r : recs) {
        if (r.kind == fmt::RecordKind::kStack && r.id == hp::g.internal_stack) {
            stack_seen = true;
            CHECK(r.frames.empty());
        }
        if (static_cast<std::uint8_t>(r.kind) == static_cast<std::uint8_t>(fmt::SizedKind::kInternalStack)) {
            CHECK(stack_seen);
            CHECK(r.id == hp::g.internal_stack);
            marked = true;
        }
        if (r.kind == fmt::RecordKind::kAlloc && r.stack == hp::g.internal_stack) {
            (marked ? used_after_mark : used_before_mark) = true;
            CHECK(r.size >= 5000);
        }
    }
    CHECK(marked);
    CHECK(used_after_mark);
    CHECK_FALSE(used_before_mark);

    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("with-internal"), hwa::parse_point("end")};
    const hwa::ReplayResult r = hwa::replay_trace(path, req);
    CHECK(r.facts.free_of_unknown == 0);
    CHECK(r.facts.allocs == 5);
    CHECK(r.facts.peak_bytes == 333);
    const hwa::Snapshot& at = r.points[0];
    CHECK(at.live_bytes == 333);
    CHECK(at.stacks.count(hwa::StackId{hp::g.internal_stack}) == 0);
    const hwa::GroupedSnapshot grouped = hwa::group(at, hwa::GroupBy::kStack, nullptr);
    CHECK(grouped.groups.size() == 2);
    CHECK(grouped.groups.count("stack#" + std::to_string(hp::g.internal_stack)) == 0);
    CHECK(grouped.bytes == 333);
    CHECK(r.points[1].live_bytes == 0);
}

TEST_CASE("a snapshot from inside the tracer fails at once instead of waiting on itself", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/guard.hwt";
    REQUIRE(hp::Tracer::start(live_options(true), path.c_str()));
    heapwise_live_snapshot s{};
    {
        hp::ReentryGuard guard;
        errno = 0;
        CHECK(hp::live_snapshot("guarded", &s) == -1);
        CHECK(errno == EDEADLK);
    }
    CHECK(hp::live_snapshot("free", &s) == 0);
    hp::live_release(&s);
    errno = 0;
    CHECK(hp::live_snapshot("null", nullptr) == -1);
    CHECK(errno == EINVAL);
    hp::Tracer::stop(fmt::EndReason::kExit);
}

TEST_CASE("many threads snapshot at once, then the tracer stops under them", "[preload][live]") {
    TempDir dir;
    const std::string path = dir.path + "/many.hwt";
    REQUIRE(hp::Tracer::start(live_options(true), path.c_str()));
    constexpr int kThreads = 6;
    std::atomic<int> ok{0}, cancelled{0}, off{0}, other{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < 400; ++i) {
                void* p = traced_malloc(64);
                heapwise_live_snapshot s{};
                const int rc = hp::live_snapshot(("t" + std::to_string(t)).c_str(), &s);
                const int err = errno;
                traced_free(p);
                if (rc == 0) {
                    ++ok;
                    hp::live_release(&s);
                } else if (err == ECANCELED) {
                    ++cancelled;
                } else if (err == ENOSYS) {
                    ++off;
                    break;
                } else {
                    ++other;
                }
            }
        });
    }
    go = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    hp::Tracer::stop(fmt::EndReason::kExit);  // some callers are waiting now
    for (auto& th : threads) th.join();       // none hangs
    CHECK(ok.load() > 0);
    CHECK(other.load() == 0);
    INFO("ok " << ok << " cancelled " << cancelled << " off " << off);
    CHECK(ok + cancelled + off >= kThreads);
}
