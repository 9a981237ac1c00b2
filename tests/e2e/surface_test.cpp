// End-to-end: every function of the interposed surface, called by real programs under the real
// shim. The trace must hold exactly the operations each program made (function, address, bytes),
// in order, and the live set at the end must be exactly what the program leaked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>

#include "checks.hpp"

using namespace heapwise::e2e;
using hwa::AllocFn;
using hwa::FreeFn;

TEST_CASE("every C allocation function is traced exactly, realloc edge cases included", "[e2e][surface]") {
    TempDir dir;
    const auto prog = Paths::get().program("e2e_c_surface");
    const Outcome plain = run({{prog.string()}});
    const Outcome r = run(traced({{prog.string()}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    CHECK(r.err.empty());
    const Facts f(r.out);
    // malloc_usable_size passes through to the real allocator untouched.
    CHECK(f.num("usable") == Facts(plain.out).num("usable"));
    CHECK(f.num("usable") >= 1001);
    CHECK(f.ptr("realloc_fail") == 0);
    CHECK(f.num("realloc_errno") == ENOMEM);
    CHECK(f.ptr("reallocarray_fail") == 0);
    CHECK(f.num("reallocarray_errno") == ENOMEM);
    CHECK(f.ptr("realloc_zero") == 0);
    REQUIRE(f.ptr("realloc_inplace") == f.ptr("small"));  // the in-place case really was in place
    REQUIRE(f.ptr("realloc_shrink") == f.ptr("realloc_grow"));

    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const auto m = f.ptr("malloc"), c = f.ptr("leak_calloc"), r0 = f.ptr("realloc_null"),
               r1 = f.ptr("realloc_grow"), r2 = f.ptr("realloc_shrink"), s = f.ptr("small"),
               ra = f.ptr("reallocarray_null"), ra2 = f.ptr("reallocarray_grow"), pm = f.ptr("posix_memalign"),
               aa = f.ptr("aligned_alloc"), ma = f.ptr("leak_memalign"), va = f.ptr("valloc"),
               pv = f.ptr("pvalloc");
    const std::vector<std::string> expected = {
        alloc_line(AllocFn::kMalloc, m, 1001),
        alloc_line(AllocFn::kCalloc, c, 1001),
        alloc_line(AllocFn::kRealloc, r0, 1002),  // realloc(NULL, n) is an allocation
        free_line(FreeFn::kRealloc, r0, 1002),    // growing moves the block
        alloc_line(AllocFn::kRealloc, r1, 50000),
        free_line(FreeFn::kRealloc, r1, 50000),   // shrinking keeps it: free then alloc of one address
        alloc_line(AllocFn::kRealloc, r2, 1003),
        free_line(FreeFn::kRealloc, r2, 1003),    // the huge realloc fails: r2 comes back as it was
        failed_line(r2, 1003),
        alloc_line(AllocFn::kMalloc, s, 100),
        free_line(FreeFn::kRealloc, s, 100),      // in place, inside the usable size
        alloc_line(AllocFn::kRealloc, s, 104),
        free_line(FreeFn::kRealloc, s, 104),      // realloc(p, 0) frees p
        alloc_line(AllocFn::kReallocArray, ra, 1010),
        free_line(FreeFn::kReallocArray, ra, 1010),
        alloc_line(AllocFn::kReallocArray, ra2, 2020),
        // reallocarray(ra2, n, size) whose product overflows fails before reaching the allocator
        alloc_line(AllocFn::kPosixMemalign, pm, 1004),
        alloc_line(AllocFn::kAlignedAlloc, aa, 1024),
        alloc_line(AllocFn::kMemalign, ma, 1005),
        alloc_line(AllocFn::kValloc, va, 1006),
        alloc_line(AllocFn::kPvalloc, pv, 1007),
        free_line(FreeFn::kFree, m, 1001),
        free_line(FreeFn::kFree, r2, 1003),
        free_line(FreeFn::kFree, ra2, 2020),
        free_line(FreeFn::kFree, pm, 1004),
        free_line(FreeFn::kFree, aa, 1024),
        free_line(FreeFn::kFree, va, 1006),
        free_line(FreeFn::kFree, pv, 1007),
    };
    const auto exe = f.exe();
    const auto fn = f.range("do_surface");
    CHECK(ops_of(t, exe, fn) == expected);

    // What do_surface leaked is exactly what is live at the end among its blocks.
    std::vector<std::string> live;
    for (const auto& [addr, b] : t.live) {
        if (first_frame_in(t.frames(b.stack), exe, fn)) live.push_back(alloc_line(b.fn, addr, b.size));
    }
    std::sort(live.begin(), live.end());
    std::vector<std::string> leaked = {alloc_line(AllocFn::kCalloc, c, 1001), alloc_line(AllocFn::kMemalign, ma, 1005)};
    std::sort(leaked.begin(), leaked.end());
    CHECK(live == leaked);
}

TEST_CASE("every form of C++ new and delete is seen with exact sizes", "[e2e][surface]") {
    TempDir dir;
    const Outcome r = run(traced({{Paths::get().program("e2e_cxx_new").string()}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    // libstdc++'s operator new calls malloc (aligned forms: aligned_alloc) and operator delete
    // calls free, through the PLT, so the shim sees them as such with operator new's frame at
    // the leaf and do_news above it.
    const std::vector<std::string> expected = {
        alloc_line(AllocFn::kMalloc, f.ptr("new"), 1100),
        alloc_line(AllocFn::kMalloc, f.ptr("new_array"), 1200),
        alloc_line(AllocFn::kMalloc, f.ptr("new_array_nothrow"), 1300),
        alloc_line(AllocFn::kMalloc, f.ptr("new_nothrow"), 1350),
        alloc_line(AllocFn::kAlignedAlloc, f.ptr("new_aligned"), 1408),
        alloc_line(AllocFn::kAlignedAlloc, f.ptr("new_array_aligned"), 2816),
        alloc_line(AllocFn::kAlignedAlloc, f.ptr("new_aligned_nothrow"), 1536),
        alloc_line(AllocFn::kAlignedAlloc, f.ptr("new_array_aligned_nothrow"), 1664),
        alloc_line(AllocFn::kMalloc, f.ptr("new_for_sized_delete"), 1500),
        alloc_line(AllocFn::kMalloc, f.ptr("new_array_for_sized_delete"), 1600),
        alloc_line(AllocFn::kMalloc, f.ptr("leak_new"), 1100),
        free_line(FreeFn::kFree, f.ptr("new"), 1100),
        free_line(FreeFn::kFree, f.ptr("new_array"), 1200),
        free_line(FreeFn::kFree, f.ptr("new_array_nothrow"), 1300),
        free_line(FreeFn::kFree, f.ptr("new_nothrow"), 1350),
        free_line(FreeFn::kFree, f.ptr("new_aligned"), 1408),
        free_line(FreeFn::kFree, f.ptr("new_array_aligned"), 2816),
        free_line(FreeFn::kFree, f.ptr("new_aligned_nothrow"), 1536),
        free_line(FreeFn::kFree, f.ptr("new_array_aligned_nothrow"), 1664),
        free_line(FreeFn::kFree, f.ptr("new_for_sized_delete"), 1500),
        free_line(FreeFn::kFree, f.ptr("new_array_for_sized_delete"), 1600),
    };
    CHECK(ops_of(t, f.exe(), f.range("do_news")) == expected);
    const auto leak = t.live.find(f.ptr("leak_new"));
    REQUIRE(leak != t.live.end());
    CHECK(leak->second.size == 1100);
}

namespace {

// mi_check under the tracer: the block must come from mimalloc and still be traced.
void check_mimalloc_run(const Outcome& r, const fs::path& dir, const char* expect_in_heap) {
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("in_mimalloc") == expect_in_heap);
    const TraceFacts t = the_trace(dir);
    require_sound(t);
    bool seen = false;
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kAlloc && op.addr == f.ptr("block") && op.block.size == 1234) seen = true;
    }
    CHECK(seen);
}

}  // namespace

TEST_CASE("a program that preloads or links mimalloc keeps mimalloc under the tracer", "[e2e][surface]") {
    const auto mimalloc = fs::path("/usr/lib/x86_64-linux-gnu/libmimalloc.so.2");
    REQUIRE(fs::exists(mimalloc));
    SECTION("LD_PRELOAD=\"shim libmimalloc.so.2\"") {
        TempDir dir;
        Command c = traced({{Paths::get().program("e2e_mi_check").string()}}, dir.path());
        for (auto& [k, v] : c.env) {
            if (k == "LD_PRELOAD") v += " " + mimalloc.string();
        }
        check_mimalloc_run(run(c), dir.path(), "1");
    }
    SECTION("linked with -lmimalloc") {
        TempDir dir;
        check_mimalloc_run(run(traced({{Paths::get().program("e2e_mi_check_linked").string()}}, dir.path())),
                           dir.path(), "1");
    }
    SECTION("control: without mimalloc the block is glibc's") {
        TempDir dir;
        const Outcome r = run(traced({{Paths::get().program("e2e_mi_check").string()}}, dir.path()));
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        CHECK(Facts(r.out).one("in_mimalloc") != "1");
    }
}
