// End-to-end: the stacks in the trace are the program's real stacks. For each unwinder, every
// block of the stacks program must carry the frames the program's own backtrace() saw (beyond the
// leaf, which must lie in leaf_alloc), and no frame of the tracer itself. A library loaded with
// dlopen gets its module record before the stacks that need it and an unload record after dlclose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "checks.hpp"

using namespace heapwise::e2e;

namespace {

struct ProgramAlloc {
    std::uint64_t size = 0;
    std::uint64_t addr = 0;
    std::vector<std::uint64_t> bt;  // the program's backtrace(), leaf first
};

std::vector<ProgramAlloc> program_allocs(const Facts& f) {
    std::vector<ProgramAlloc> out;
    for (const auto& line : f.all("alloc")) {
        std::istringstream s(line);
        std::string index, size, addr;
        s >> index >> size >> addr;
        out.push_back({parse_u64(size), parse_u64(addr), {}});
    }
    for (const auto& line : f.all("bt")) {
        std::istringstream s(line);
        std::string index, frame;
        s >> index;
        auto& a = out.at(parse_u64(index));
        while (s >> frame) a.bt.push_back(parse_u64(frame));
    }
    return out;
}

// The executable ranges the shim occupies in the traced process, from the trace's module map.
std::vector<AddrRange> shim_ranges(const TraceFacts& t) {
    const auto* m = t.module_named("libheapwise_preload");
    REQUIRE(m != nullptr);
    return exec_ranges(*m);
}

std::string frames_text(std::span<const std::uint64_t> frames) {
    std::string s;
    for (const auto f : frames) s += hex(f) + " ";
    return s;
}

void check_stacks(const std::string& unwinder, std::uint64_t depth) {
    TempDir dir;
    Command c = traced({{Paths::get().program("e2e_stacks").string()}}, dir.path());
    c.env.emplace_back("HEAPWISE_UNWIND", unwinder);
    c.env.emplace_back("HEAPWISE_DEPTH", std::to_string(depth));
    const Outcome r = run(c);
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    CHECK(t.info->max_depth == depth);
    const auto leaf = f.range("leaf_alloc");
    const auto shim = shim_ranges(t);
    const auto exe = f.exe();
    const auto in_exe = [&](std::uint64_t ra) {
        return std::any_of(exe.begin(), exe.end(), [&](const AddrRange& x) { return x.holds_return_address(ra); });
    };

    const auto allocs = program_allocs(f);
    REQUIRE(allocs.size() == 12);
    for (std::size_t i = 0; i < allocs.size(); ++i) {
        const auto& a = allocs[i];
        const auto it = std::find_if(t.ops.begin(), t.ops.end(), [&](const Op& op) {
            return op.kind == OpKind::kAlloc && op.addr == a.addr && op.block.size == a.size;
        });
        REQUIRE(it != t.ops.end());
        const auto frames = t.frames(it->block.stack);
        INFO("block " << i << " (" << a.size << " bytes), unwinder " << unwinder << "\n trace: "
                      << frames_text(frames) << "\n    bt: " << frames_text(a.bt));
        REQUIRE(!frames.empty());
        CHECK(leaf.holds_return_address(frames[0]));
        REQUIRE(leaf.holds_return_address(a.bt.at(0)));
        for (const auto ra : frames) CHECK_FALSE(std::any_of(shim.begin(), shim.end(), [&](const AddrRange& x) {
            return x.holds_return_address(ra);
        }));
        // Frames above the leaf: exactly the program's own view. The frame-pointer walk stops at
        // the first frame without a frame pointer (glibc's __libc_start_call_main), so it is held
        // to the program's frames only; the unwinders that read unwind tables to the whole stack,
        // up to the depth limit.
        std::size_t expect = std::min<std::size_t>(a.bt.size(), depth);
        if (unwinder == "fp") {
            std::size_t own = 0;
            while (own < a.bt.size() && in_exe(a.bt[own])) ++own;
            expect = std::min<std::size_t>(own, depth);
            REQUIRE(frames.size() >= expect);
        } else {
            CHECK(frames.size() == expect);
        }
        for (std::size_t k = 1; k < std::min(expect, frames.size()); ++k) {
            INFO("frame " << k);
            CHECK(frames[k] == a.bt[k]);
        }
    }
}

}  // namespace

TEST_CASE("stacks equal the program's own backtrace, for every unwinder", "[e2e][stacks]") {
    for (const std::string unwinder : {"cached", "libunwind", "fp"}) {
        SECTION(unwinder + ", default depth 64") { check_stacks(unwinder, 64); }
        SECTION(unwinder + ", depth 8") { check_stacks(unwinder, 8); }
    }
}

TEST_CASE("a known call chain appears frame by frame", "[e2e][stacks]") {
    TempDir dir;
    const Outcome r = run(traced({{Paths::get().program("e2e_stacks").string()}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    // Block 0 comes from main -> chain_a -> chain_b -> chain_c -> leaf_alloc -> malloc.
    const auto allocs = program_allocs(f);
    const auto it = std::find_if(t.ops.begin(), t.ops.end(), [&](const Op& op) {
        return op.kind == OpKind::kAlloc && op.addr == allocs.at(0).addr && op.block.size == 5000;
    });
    REQUIRE(it != t.ops.end());
    const auto frames = t.frames(it->block.stack);
    INFO(frames_text(frames));
    REQUIRE(frames.size() >= 5);
    CHECK(f.range("leaf_alloc").holds_return_address(frames[0]));
    CHECK(f.range("chain_c").holds_return_address(frames[1]));
    CHECK(f.range("chain_b").holds_return_address(frames[2]));
    CHECK(f.range("chain_a").holds_return_address(frames[3]));
    CHECK(f.range("main").holds_return_address(frames[4]));
}

TEST_CASE("dlopen and dlclose of a library that allocates", "[e2e][stacks][dlopen]") {
    TempDir dir;
    const auto lib = Paths::get().dlib;
    const Outcome r = run(traced({{Paths::get().program("e2e_dl_host").string(), lib.string()}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("unloaded") == "1");
    CHECK(f.one("marker") == "0");
    std::vector<AddrRange> lib_ranges;
    for (const auto& line : f.all("lib")) {
        std::istringstream s(line);
        std::string lo, hi;
        s >> lo >> hi;
        lib_ranges.push_back({parse_u64(lo), parse_u64(hi)});
    }
    REQUIRE(!lib_ranges.empty());

    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const auto* load = t.module_named(lib.filename().string());
    REQUIRE(load != nullptr);
    // The module record describes where the library really was.
    const auto recorded = exec_ranges(*load);
    REQUIRE(recorded.size() == lib_ranges.size());
    for (std::size_t i = 0; i < recorded.size(); ++i) {
        CHECK(recorded[i].lo == lib_ranges[i].lo);
        CHECK(recorded[i].hi == lib_ranges[i].hi);
    }
    CHECK(load->build_id.size() >= 16);

    const auto lib_blocks = f.ptrs("lib");
    REQUIRE(lib_blocks.size() == 5);
    std::uint64_t last_lib_event = 0;
    int seen = 0;
    for (const auto& op : t.ops) {
        if (op.kind != OpKind::kAlloc || op.block.size != 2222 ||
            std::find(lib_blocks.begin(), lib_blocks.end(), op.addr) == lib_blocks.end()) {
            continue;
        }
        ++seen;
        const auto frames = t.frames(op.block.stack);
        REQUIRE(!frames.empty());
        CHECK(std::any_of(lib_ranges.begin(), lib_ranges.end(),
                          [&](const AddrRange& x) { return x.holds_return_address(frames[0]); }));
        // The module record precedes the stack record and the event that need it.
        CHECK(load->seq < op.seq);
        const auto def = std::find_if(t.stack_defs.begin(), t.stack_defs.end(),
                                      [&](const SeqStack& s) { return s.id == op.block.stack; });
        REQUIRE(def != t.stack_defs.end());
        CHECK(load->seq < def->seq);
        last_lib_event = std::max(last_lib_event, op.seq);
    }
    CHECK(seen == 5);
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kFree && op.known && op.block.size == 2222) last_lib_event = std::max(last_lib_event, op.seq);
    }
    // The unload record follows everything the library did, and comes before the marker the
    // program set after dlclose returned.
    const auto unload = std::find_if(t.module_unloads.begin(), t.module_unloads.end(),
                                     [&](const SeqModuleUnload& u) { return u.module == load->module; });
    REQUIRE(unload != t.module_unloads.end());
    CHECK(unload->seq > last_lib_event);
    const auto marker = std::find_if(t.markers.begin(), t.markers.end(),
                                     [](const SeqMarker& m) { return m.label == "after-dlclose"; });
    REQUIRE(marker != t.markers.end());
    CHECK(unload->seq < marker->seq);
    // Three library blocks leaked, the host's own block too.
    int live_lib = 0;
    for (const auto a : lib_blocks) {
        const auto it = t.live.find(a);
        live_lib += it != t.live.end() && it->second.size == 2222 ? 1 : 0;
    }
    CHECK(live_lib == 3);
    const auto own = t.live.find(f.ptr("own"));
    REQUIRE(own != t.live.end());
    CHECK(own->second.size == 3333);
}
