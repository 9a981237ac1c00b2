// The recorder end to end without LD_PRELOAD: Tracer::start, record_* around the real allocator
// as a hook does, stop, then the file decoded here. Exact counts, stacks before their use, the
// caller's call site as first frame, markers, and two threads freeing each other's blocks
// replaying without a free of an unknown address or an allocation of a live one.
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "trace_decode.hpp"
#include "tracer.hpp"

namespace hp = heapwise::preload;
namespace fmt = heapwise::format;
using hwtest::Rec;
using K = fmt::RecordKind;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/hw-tracer-XXXXXX";
        REQUIRE(mkdtemp(t) != nullptr);
        path = t;
    }
    ~TempDir() {
        const std::string cmd = "rm -rf '" + path + "'";
        (void)!system(cmd.c_str());
    }
};

std::atomic<std::uintptr_t> g_site{0};

// What a malloc hook does: the real call, then the record. Its return address is the first frame.
[[gnu::noinline]] void* traced_malloc(std::size_t n) {
    void* p = malloc(n);
    hp::Tracer::record_alloc(p, n, fmt::AllocFn::kMalloc);
    g_site.store(reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
    return p;
}
[[gnu::noinline]] void traced_free(void* p) {
    hp::Tracer::record_free(p, fmt::FreeFn::kFree);
    free(p);
}

hp::Options test_options() {
    hp::Options o;
    o.rss_interval_ns = 0;
#if defined(__SANITIZE_THREAD__)
    // libunwind's per-thread cache has a TSD destructor that re-arms itself to run last; under
    // TSan it then runs after TSan's own thread teardown and crashes in TSan's mutex interceptor.
    // The recording pipeline is what these tests check; unwind_test.cpp covers libunwind.
    o.unwinder = fmt::Unwinder::kFramePointer;
#endif
    return o;
}

}  // namespace

TEST_CASE("a traced session records exact events, stacks first", "[preload][tracer]") {
    TempDir dir;
    const std::string path = dir.path + "/t.hwt";
    REQUIRE(hp::Tracer::start(test_options(), path.c_str()));
    CHECK(hp::Tracer::active());
    std::uint64_t bytes = 0;
    for (std::size_t i = 1; i <= 1000; ++i) {
        void* p = traced_malloc(i);
        bytes += i;
        if (i == 500) CHECK(hp::Tracer::snapshot("half", fmt::MarkerSource::kCall) == 0);
        traced_free(p);
    }
    hp::Tracer::stop(fmt::EndReason::kExit);
    CHECK_FALSE(hp::Tracer::active());
    CHECK(hp::Tracer::snapshot("late", fmt::MarkerSource::kCall) == -1);

    const auto recs = hwtest::read_trace(path);
    REQUIRE(!recs.empty());
    CHECK(recs.front().kind == K::kProcessInfo);
    CHECK(recs.front().frames[0] == static_cast<std::uint64_t>(getpid()));
    CHECK(recs.back().kind == K::kEnd);
    std::set<std::uint64_t> stacks_seen;
    std::uint64_t allocs = 0, frees = 0, got_bytes = 0, last_time = 0, size_expected = 1;
    int markers = 0, thread_starts = 0;
    bool sizes_in_order = true, stacks_before_use = true, first_frame_is_site = true;
    for (const Rec& r : recs) {
        if (r.kind != K::kProcessInfo && r.kind != K::kStack) {
            CHECK(r.time >= last_time);
            last_time = r.time;
        }
        if (r.kind == K::kStack) stacks_seen.insert(r.id);
        if (r.kind == K::kThreadStart) ++thread_starts;
        if (r.kind == K::kAlloc) {
            ++allocs;
            got_bytes += r.size;
            sizes_in_order = sizes_in_order && r.size == size_expected++;
            stacks_before_use = stacks_before_use && stacks_seen.count(r.stack) == 1;
            const auto frames = hwtest::full_stack(recs, r.stack);
            first_frame_is_site = first_frame_is_site && !frames.empty() && frames[0] == g_site.load();
        }
        if (r.kind == K::kFree) ++frees;
        if (r.kind == K::kMarker) {
            ++markers;
            CHECK(r.text == "half");
            CHECK(allocs == 500);
            CHECK(frees == 499);
        }
    }
    CHECK(allocs == 1000);
    CHECK(frees == 1000);
    CHECK(got_bytes == bytes);
    CHECK(markers == 1);
    CHECK(thread_starts == 1);
    CHECK(sizes_in_order);
    CHECK(stacks_before_use);
    CHECK(first_frame_is_site);
    const Rec& end = recs.back();
    CHECK(end.fn == static_cast<std::uint8_t>(fmt::EndReason::kExit));
    CHECK(end.frames[0] == 2001);  // events: allocs, frees, the marker
    CHECK(end.frames[1] == 1000);
    CHECK(end.frames[2] == 1000);
    CHECK(end.frames[3] == bytes);
    CHECK(end.frames[4] == 0);
    CHECK(end.frames[5] == stacks_seen.size());
}

TEST_CASE("cross-thread frees replay in order", "[preload][tracer]") {
    TempDir dir;
    const std::string path = dir.path + "/x.hwt";
    hp::Options o = test_options();
    o.ring_size = 256;  // small rings: producers wait for the writer, the lossless path
    REQUIRE(hp::Tracer::start(o, path.c_str()));
    constexpr int kPerThread = 20000;
    constexpr std::size_t kQueue = 64;
    // Each thread hands its blocks to the other through a tiny SPSC mailbox; the receiver frees
    // them, so the allocator reuses addresses across the two threads.
    struct Mailbox {
        std::atomic<void*> slot[kQueue] = {};
    } box[2];
    auto worker = [&](int me) {
        Mailbox& out = box[me];
        Mailbox& in = box[1 - me];
        std::size_t w = 0, r = 0;
        for (int i = 0; i < kPerThread; ++i) {
            void* p = traced_malloc(16 + static_cast<std::size_t>(i % 64));
            while (out.slot[w % kQueue].load(std::memory_order_acquire) != nullptr) {
                if (void* q = in.slot[r % kQueue].exchange(nullptr, std::memory_order_acq_rel)) {
                    traced_free(q);
                    ++r;
                } else {
                    std::this_thread::yield();
                }
            }
            out.slot[w++ % kQueue].store(p, std::memory_order_release);
            if (void* q = in.slot[r % kQueue].exchange(nullptr, std::memory_order_acq_rel)) {
                traced_free(q);
                ++r;
            }
        }
        while (r < static_cast<std::size_t>(kPerThread)) {
            if (void* q = in.slot[r % kQueue].exchange(nullptr, std::memory_order_acq_rel)) {
                traced_free(q);
                ++r;
            } else {
                std::this_thread::yield();
            }
        }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    hp::Tracer::stop(fmt::EndReason::kExit);

    const auto recs = hwtest::read_trace(path);
    std::unordered_set<std::uint64_t> live;
    std::uint64_t allocs = 0, frees = 0, bad_free = 0, bad_alloc = 0, cross = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> owner;
    for (const Rec& r : recs) {
        if (r.kind == K::kAlloc) {
            ++allocs;
            if (!live.insert(r.addr).second) ++bad_alloc;
            owner[r.addr] = r.thread;
        } else if (r.kind == K::kFree) {
            ++frees;
            if (live.erase(r.addr) == 0) ++bad_free;
            if (owner[r.addr] != r.thread) ++cross;
        }
    }
    CHECK(allocs == 2 * kPerThread);
    CHECK(frees == 2 * kPerThread);
    CHECK(bad_alloc == 0);
    CHECK(bad_free == 0);
    CHECK(cross == 2 * kPerThread);  // every block was freed by the other thread
    CHECK(live.empty());
    CHECK(recs.back().kind == K::kEnd);
    CHECK(recs.back().frames[4] == 0);  // nothing lost
}

TEST_CASE("sampled mode records sampled blocks and exactly their frees", "[preload][tracer]") {
    TempDir dir;
    const std::string path = dir.path + "/s.hwt";
    hp::Options o = test_options();
    o.mode = fmt::Mode::kSampled;
    o.sample_interval = 4096;
    REQUIRE(hp::Tracer::start(o, path.c_str()));
    for (int i = 0; i < 20000; ++i) traced_free(traced_malloc(64));
    hp::Tracer::stop(fmt::EndReason::kExit);
    const auto recs = hwtest::read_trace(path);
    CHECK(recs.front().fn == static_cast<std::uint8_t>(fmt::Mode::kSampled));
    CHECK(recs.front().size == 4096);
    std::uint64_t allocs = 0, frees = 0;
    std::unordered_set<std::uint64_t> live;
    bool matched = true;
    for (const Rec& r : recs) {
        if (r.kind == K::kAlloc) {
            ++allocs;
            live.insert(r.addr);
        } else if (r.kind == K::kFree) {
            ++frees;
            matched = matched && live.erase(r.addr) == 1;
        }
    }
    // 1.28 MB allocated at a mean of 4 KiB between samples: about 312 samples (Poisson).
    CHECK(allocs > 200);
    CHECK(allocs < 450);
    CHECK(frees == allocs);
    CHECK(matched);
}

TEST_CASE("an unwritable output path fails cleanly", "[preload][tracer]") {
    CHECK_FALSE(hp::Tracer::start(test_options(), "/nonexistent-dir/t.hwt"));
    CHECK_FALSE(hp::Tracer::active());
}

TEST_CASE("lossy mode accounts for every event it drops", "[preload][tracer]") {
    TempDir dir;
    const std::string path = dir.path + "/l.hwt";
    hp::Options o = test_options();
    o.mode = fmt::Mode::kLossy;
    o.ring_size = 256;  // the writer sleeps between rounds: a burst overflows this ring
    REQUIRE(hp::Tracer::start(o, path.c_str()));
    constexpr std::uint64_t kPairs = 50000;
    for (std::uint64_t i = 0; i < kPairs; ++i) traced_free(traced_malloc(24));
    hp::Tracer::stop(fmt::EndReason::kExit);
    const auto recs = hwtest::read_trace(path);
    std::uint64_t allocs = 0, frees = 0, lost_allocs = 0, lost_frees = 0, lost_bytes = 0;
    for (const Rec& r : recs) {
        if (r.kind == K::kAlloc) ++allocs;
        if (r.kind == K::kFree) ++frees;
        if (r.kind == K::kLost) {
            lost_allocs += r.frames[0];
            lost_frees += r.frames[1];
            lost_bytes += r.frames[2];
        }
    }
    CHECK(allocs + lost_allocs == kPairs);
    CHECK(frees + lost_frees == kPairs);
    CHECK(lost_bytes == 24 * lost_allocs);
    CHECK(recs.back().frames[4] == lost_allocs + lost_frees);
}

TEST_CASE("thread names and ends are recorded", "[preload][tracer]") {
    TempDir dir;
    const std::string path = dir.path + "/n.hwt";
    REQUIRE(hp::Tracer::start(test_options(), path.c_str()));
    std::thread t([] {
        traced_free(traced_malloc(8));
        hp::Tracer::thread_named(pthread_self(), "renamed-worker-long");
        traced_free(traced_malloc(8));
    });
    t.join();
    hp::Tracer::stop(fmt::EndReason::kExit);
    const auto recs = hwtest::read_trace(path);
    int starts = 0, exits = 0;
    std::string name;
    std::uint64_t named_thread = 99, exited_thread = 98;
    for (const Rec& r : recs) {
        if (r.kind == K::kThreadStart) ++starts;
        if (r.kind == K::kThreadExit) {
            ++exits;
            exited_thread = r.thread;
        }
        if (r.kind == K::kThreadName) {
            name = r.text;
            named_thread = r.thread;
        }
    }
    CHECK(starts >= 1);
    CHECK(exits == 1);  // the worker; the main thread is still running at stop
    CHECK(name == "renamed-worker-");  // 15 bytes, as the kernel keeps them
    CHECK(named_thread == exited_thread);
}
