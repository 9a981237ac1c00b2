// Each unwinding backend against plain unw_backtrace on real recursive call chains: same frames,
// same order; for the cached backend also after the outer part of the stack changed and after a
// cache reset. This file is built with frame pointers, as the fp backend requires.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "unwind.hpp"

namespace hp = heapwise::preload;

namespace {

using Fn = int (*)(std::span<std::uintptr_t>, int);

struct Pair {
    std::vector<std::uintptr_t> got, want;
};

// Captures with the backend and, from the same frame, with unw_backtrace.
[[gnu::noinline]] Pair leaf(Fn fn, int depth) {
    Pair p;
    std::uintptr_t buf[300];
    const int n = fn(std::span(buf, static_cast<std::size_t>(depth)), 0);
    p.got.assign(buf, buf + n);
    void* ref[300];
    const int m = unw_backtrace(ref, 300);
    // ref[0] is inside leaf(); ref[1] is leaf's return address, the backend's out[0].
    for (int i = 1; i < m && static_cast<int>(p.want.size()) < depth; ++i) {
        p.want.push_back(reinterpret_cast<std::uintptr_t>(ref[i]));
    }
    asm volatile("" ::: "memory");
    return p;
}

[[gnu::noinline]] Pair chain_a(int n, Fn fn, int depth);
[[gnu::noinline]] Pair chain_b(int n, Fn fn, int depth) {
    Pair p = n <= 0 ? leaf(fn, depth) : chain_a(n - 1, fn, depth);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] Pair chain_a(int n, Fn fn, int depth) {
    Pair p = n <= 0 ? leaf(fn, depth) : chain_b(n - 1, fn, depth);
    asm volatile("" ::: "memory");
    return p;
}
// A different outer frame above the same inner chain.
[[gnu::noinline]] Pair outer_x(int n, Fn fn, int depth) {
    Pair p = chain_a(n, fn, depth);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] Pair outer_y(int n, Fn fn, int depth) {
    Pair p = chain_b(n, fn, depth);
    asm volatile("" ::: "memory");
    return p;
}

[[gnu::noinline]] int skip_one(std::span<std::uintptr_t> out, int) {
    const int n = hp::capture(out, 1);
    asm volatile("" ::: "memory");  // not a tail call: this frame must exist to be skipped
    return n;
}

void check_backend(Fn fn) {
    for (int depth : {1, 8, 32, 64, 200}) {
        for (int n : {0, 5, 40, 150}) {
            for (int rep = 0; rep < 3; ++rep) {  // repeats hit the cached backend's cache
                INFO("depth " << depth << " chain " << n << " rep " << rep);
                const Pair px = outer_x(n, fn, depth);
                REQUIRE(!px.want.empty());
                CHECK(px.got == px.want);
                const Pair py = outer_y(n, fn, depth);
                CHECK(py.got == py.want);
            }
        }
    }
}

}  // namespace

TEST_CASE("libunwind backend matches unw_backtrace", "[preload][unwind]") {
    check_backend(hp::capture_libunwind);
}

TEST_CASE("frame-pointer backend matches unw_backtrace on frame-pointer code", "[preload][unwind]") {
    // Only frames built with frame pointers can be walked: compare the part of the stack that is
    // this test's own code (the chain), which is all of it up to Catch2's frames.
    for (int n : {0, 5, 40}) {
        const Pair p = outer_x(n, hp::capture_frame_pointer, 32);
        REQUIRE(p.got.size() >= std::min<std::size_t>(32, static_cast<std::size_t>(n) + 2));
        const std::size_t k = std::min<std::size_t>(p.got.size(), static_cast<std::size_t>(n) + 2);
        CHECK(std::vector<std::uintptr_t>(p.got.begin(), p.got.begin() + static_cast<long>(k)) ==
              std::vector<std::uintptr_t>(p.want.begin(), p.want.begin() + static_cast<long>(k)));
    }
}

TEST_CASE("cached backend matches unw_backtrace, also after the outer part changes", "[preload][unwind]") {
    check_backend(hp::capture_cached);
    hp::reset_thread_unwind_cache();
    check_backend(hp::capture_cached);
}

TEST_CASE("capture() dispatches to the chosen backend and skips frames", "[preload][unwind]") {
    for (auto u : {heapwise::format::Unwinder::kLibunwind, heapwise::format::Unwinder::kLibunwindCached}) {
        hp::set_unwinder(u);
        CHECK(hp::current_unwinder() == u);
        const Pair p = outer_x(3, hp::capture, 16);
        CHECK(p.got == p.want);
        // Through one more frame that asks capture() to skip itself: the same stack.
        const Pair skipped = outer_x(3, skip_one, 16);
        CHECK(skipped.got == skipped.want);
    }
    hp::set_unwinder(heapwise::format::Unwinder::kLibunwind);
}
