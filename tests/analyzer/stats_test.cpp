// The statistics replay on hand-built event sequences: a failed realloc restores its block, the
// peak is taken at the right event, and each kind of replay inconsistency is counted once.
#include <catch2/catch.hpp>

#include "analyzer/trace_reader.hpp"
#include "analyzer/trace_stats.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::RecordWriter;
using K = format::RecordKind;

namespace {

TraceStats stats_of(const RecordWriter& w) {
    test::Bytes file = test::file_header_bytes();
    RecordWriter all;
    test::append(all.out, test::process_info_record(1));
    test::append(all.out, w.out);
    test::append(file, test::block_bytes(all.out));
    test::TempDir dir;
    test::write_file(dir / "s.hwt", file);
    TraceReader reader(dir / "s.hwt");
    StatsBuilder b;
    REQUIRE(reader.read(b).clean());
    return b.stats();
}

}  // namespace

TEST_CASE("stats: a failed realloc restores the block its free removed", "[reader][stats]") {
    RecordWriter w;
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(100).var(0).u8(0);   // A 100 at t1
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(50).var(0).u8(0);    // B 50 at t2: peak 150
    w.kind(K::kFree).var(1).var(0).svar(-0x1000).u8(1);                   // realloc(A) frees A
    w.kind(K::kReallocFailed).var(1).var(0).svar(0);                      // ...and fails: A back
    w.kind(K::kFree).var(1).var(0).svar(0x1000).u8(0);                    // free B
    w.kind(K::kFree).var(1).var(0).svar(-0x1000).u8(1);                   // realloc(A, 300) frees A
    w.kind(K::kAlloc).var(1).var(0).svar(0x5000).var(300).var(0).u8(2);   // new block 300 at t7
    w.kind(K::kFree).var(1).var(0).svar(-0x6000).u8(0);                   // free(NULL)
    const TraceStats s = stats_of(w);
    CHECK(s.allocs == 3);
    CHECK(s.allocs_by_fn[static_cast<int>(AllocFn::kRealloc)] == 1);
    CHECK(s.frees == 3);
    CHECK(s.frees_by_fn[static_cast<int>(FreeFn::kRealloc)] == 2);
    CHECK(s.frees_null == 1);
    CHECK(s.reallocs == 2);
    CHECK(s.realloc_failed == 1);
    CHECK(s.events == 8);
    CHECK(s.bytes_allocated == 450);
    CHECK(s.peak_live_bytes == 300);
    CHECK(s.peak_time_ns == 7);
    CHECK(s.live_bytes == 300);
    CHECK(s.live_blocks == 1);
    CHECK(s.free_of_unknown + s.alloc_of_live + s.realloc_failed_unknown == 0);
}

TEST_CASE("stats: each replay inconsistency is counted", "[reader][stats]") {
    RecordWriter w;
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(100).var(0).u8(0);
    w.kind(K::kAlloc).var(1).var(1).svar(0).var(40).var(0).u8(0);       // same address, still live
    w.kind(K::kFree).var(1).var(0).svar(0x100).u8(0);                    // never allocated
    w.kind(K::kReallocFailed).var(1).var(1).svar(-0x100);                // no realloc free before
    const TraceStats s = stats_of(w);
    CHECK(s.alloc_of_live == 1);
    CHECK(s.free_of_unknown == 1);
    CHECK(s.realloc_failed_unknown == 1);
    CHECK(s.live_bytes == 40);  // the second allocation replaced the first
    CHECK(s.live_blocks == 1);
    CHECK(s.peak_live_bytes == 100);
}

TEST_CASE("stats: the tracer's internal stack is left out of bytes, peak and live figures",
          "[reader][stats]") {
    RecordWriter w;
    w.kind(K::kStack).var(3).u8(0).var(0).var(0).var(0);                  // stack 3, no frames
    w.u8(static_cast<std::uint8_t>(format::SizedKind::kInternalStack)).var(1).var(3);
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(100).var(0).u8(0);   // A 100 at t1
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(5000).var(3).u8(0);  // internal 5000 at 0x2000
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(7000).var(3).u8(0);  // internal 7000 at 0x3000
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(50).var(0).u8(0);    // B 50 at 0x4000, t4: peak
    w.kind(K::kFree).var(1).var(0).svar(-0x2000).u8(0);                   // free internal 0x2000
    w.kind(K::kFree).var(1).var(0).svar(-0x1000).u8(0);                   // free A
    w.kind(K::kFree).var(1).var(0).svar(0x2000).u8(1);                    // realloc(0x3000) frees it
    w.kind(K::kReallocFailed).var(1).var(0).svar(0);                      // ...and fails: back, uncounted
    const TraceStats s = stats_of(w);
    CHECK(s.records == 11);  // the process info and the kInternalStack record included
    CHECK(s.stacks == 1);
    CHECK(s.allocs == 4);    // counts of events include the internal ones
    CHECK(s.frees == 3);
    CHECK(s.reallocs == 1);
    CHECK(s.realloc_failed == 1);
    CHECK(s.events == 8);
    CHECK(s.bytes_allocated == 150);
    CHECK(s.peak_live_bytes == 150);
    CHECK(s.peak_live_blocks == 2);
    CHECK(s.peak_time_ns == 4);
    CHECK(s.live_bytes == 50);
    CHECK(s.live_blocks == 1);
    CHECK(s.free_of_unknown + s.alloc_of_live + s.realloc_failed_unknown == 0);
}
