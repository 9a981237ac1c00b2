// The reader against hand-built bytes: every record kind's fields, time and address deltas,
// stack expansion, raw and zstd blocks, and the file-level checks. Independent of the shim's
// encoder, so a bug shared by writer and reader cannot hide here.
#include <catch2/catch.hpp>

#include "analyzer/trace_reader.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;

namespace {

// Block 1: process info (tick 1000 ns), module, thread, two stacks, allocs/frees with deltas.
Bytes first_block() {
    RecordWriter w;
    test::append(w.out, test::process_info_record(1000));
    w.kind(K::kModuleLoad).var(5).var(3).var(0x555500000000).str("/usr/bin/prog").str("\x01\xab")
        .var(2).var(0x1000).var(0x2000).var(0).u8(5).var(0x3000).var(0x100).var(0x2000).u8(6);
    w.kind(K::kThreadStart).var(2).var(1).var(777).str("main");
    w.kind(K::kStack).var(1).u8(0).var(3).var(0x401000).svar(0x10).svar(-0x20).var(0).var(0);
    w.kind(K::kStack).var(2).u8(0).var(1).var(0x402000).var(1).var(1);  // + frames 1.. of stack 1
    w.kind(K::kAlloc).var(10).var(1).svar(0x7f0000001000).var(48).var(2).u8(0);
    w.kind(K::kAlloc).var(1).var(1).svar(0x40).var(16).var(1).u8(1);
    w.kind(K::kFree).var(2).var(1).svar(-0x40).u8(1);
    w.kind(K::kReallocFailed).var(0).var(1).svar(0).u8(0);  // trailing u8 is a padding record
    w.kind(K::kPadding);
    return w.out;
}

// Block 2: deltas restart; markers, rss, lost, names, unload, exit, end.
Bytes second_block() {
    RecordWriter w;
    w.kind(K::kFree).var(20).var(1).svar(0x7f0000001000).u8(0);
    w.kind(K::kThreadName).var(1).var(1).str("worker");
    w.kind(K::kMarker).var(1).var(1).u8(1).str("snap-1");
    w.kind(K::kRss).var(1).var(1 << 20);
    w.kind(K::kLost).var(1).var(1).var(3).var(2).var(300);
    w.kind(K::kModuleUnload).var(1).var(5);
    w.kind(K::kThreadExit).var(1).var(1);
    w.kind(K::kEnd).var(1).u8(0).var(4).var(2).var(2).var(64).var(5).var(2).var(1);
    return w.out;
}

Bytes sample_trace(bool zstd = true) {
    Bytes b = test::file_header_bytes();
    test::append(b, test::block_bytes(first_block(), zstd));
    test::append(b, test::block_bytes(second_block(), zstd));
    return b;
}

template <typename T>
const T& nth(const TraceContents& c, std::size_t index) {
    REQUIRE(index < c.events.size());
    REQUIRE(std::holds_alternative<T>(c.events[index]));
    return std::get<T>(c.events[index]);
}

}  // namespace

TEST_CASE("every record kind decodes with absolute times, addresses and expanded stacks",
          "[reader]") {
    for (bool zstd : {true, false}) {
        test::TempDir dir;
        test::write_file(dir / "t.hwt", sample_trace(zstd));
        const TraceContents c = read_all(dir / "t.hwt");
        CHECK(c.summary.clean());
        CHECK(c.summary.blocks == 2);
        REQUIRE(c.events.size() == 17);

        const auto& pi = nth<ProcessInfo>(c, 0);
        CHECK(pi.pid == 4242);
        CHECK(pi.tick_ns == 1000);
        CHECK(pi.start_monotonic_ns == 5'000'000);
        CHECK(pi.unwinder == Unwinder::kLibunwind);
        CHECK(pi.exe == "/usr/bin/prog");
        CHECK(pi.args == std::vector<std::string>{"prog", "--flag"});
        CHECK(pi.options == "HEAPWISE_DEPTH=64\n");

        const auto& ml = nth<ModuleLoad>(c, 1);
        CHECK(ml.time_ns == 5000);
        CHECK(ml.module == ModuleId{3});
        CHECK(ml.load_bias == 0x555500000000);
        CHECK(ml.build_id == std::string("\x01\xab"));
        REQUIRE(ml.segments.size() == 2);
        CHECK(ml.segments[1].vaddr == 0x3000);
        CHECK(ml.segments[1].offset == 0x2000);
        CHECK(ml.segments[1].flags == 6);

        const auto& ts = nth<ThreadStart>(c, 2);
        CHECK(ts.time_ns == 7000);
        CHECK(ts.tid == 777);
        CHECK(ts.name == "main");

        const auto& s1 = nth<StackDef>(c, 3);
        CHECK(s1.frames == std::vector<std::uint64_t>{0x401000, 0x401010, 0x400ff0});
        const auto& s2 = nth<StackDef>(c, 4);
        CHECK(s2.frames == std::vector<std::uint64_t>{0x402000, 0x401010, 0x400ff0});
        CHECK(s2.nown == 1);
        CHECK(s2.base == StackId{1});
        CHECK(c.stacks.frames(StackId{2}).size() == 3);
        CHECK(c.stacks.frames(StackId{9}).empty());

        const auto& a1 = nth<Alloc>(c, 5);
        CHECK(a1.time_ns == 17000);
        CHECK(a1.addr == 0x7f0000001000);
        CHECK(a1.size == 48);
        CHECK(a1.stack == StackId{2});
        CHECK(a1.fn == AllocFn::kMalloc);
        const auto& a2 = nth<Alloc>(c, 6);
        CHECK(a2.time_ns == 18000);
        CHECK(a2.addr == 0x7f0000001040);
        CHECK(a2.fn == AllocFn::kCalloc);
        const auto& f1 = nth<Free>(c, 7);
        CHECK(f1.addr == 0x7f0000001000);
        CHECK(f1.fn == FreeFn::kRealloc);
        CHECK(nth<ReallocFailed>(c, 8).addr == 0x7f0000001000);

        // Second block: deltas restarted, so the first timed record carries absolute ticks.
        const auto& f2 = nth<Free>(c, 9);
        CHECK(f2.time_ns == 20000);
        CHECK(f2.addr == 0x7f0000001000);
        CHECK(nth<ThreadName>(c, 10).name == "worker");
        const auto& mk = nth<Marker>(c, 11);
        CHECK(mk.source == MarkerSource::kSignal);
        CHECK(mk.label == "snap-1");
        CHECK(mk.time_ns == 22000);
        CHECK(nth<Rss>(c, 12).rss_bytes == 1u << 20);
        const auto& lost = nth<Lost>(c, 13);
        CHECK((lost.allocs == 3 && lost.frees == 2 && lost.bytes == 300));
        CHECK(nth<ModuleUnload>(c, 14).module == ModuleId{5});
        CHECK(nth<ThreadExit>(c, 15).time_ns == 26000);
        const auto& end = nth<End>(c, 16);
        CHECK(end.reason == EndReason::kExit);
        CHECK((end.events == 4 && end.allocs == 2 && end.frees == 2 && end.bytes_allocated == 64));
        CHECK((end.lost_events == 5 && end.stacks == 2 && end.threads == 1));
    }
}

TEST_CASE("file-level checks: empty, not a trace, versions, short header", "[reader]") {
    test::TempDir dir;
    const auto open_error = [&](const Bytes& b) -> std::optional<TraceError> {
        test::write_file(dir / "x.hwt", b);
        try {
            TraceReader r(dir / "x.hwt");
        } catch (const TraceError& e) {
            return e;
        }
        return std::nullopt;
    };
    auto e = open_error({});
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kNotATrace);
    CHECK(std::string(e->what()).find("empty") != std::string::npos);

    e = open_error(Bytes{'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n'});
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kNotATrace);

    e = open_error(test::file_header_bytes(2, 0));
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kUnsupportedVersion);
    CHECK(std::string(e->what()) == "unsupported trace version 2.0 (this reader reads 1.x)");

    Bytes newer_minor = test::file_header_bytes(1, 7);
    test::append(newer_minor, test::block_bytes(first_block()));
    CHECK_FALSE(open_error(newer_minor));
    test::write_file(dir / "minor.hwt", newer_minor);
    CHECK(read_all(dir / "minor.hwt").summary.clean());

    Bytes shorter = test::file_header_bytes();
    shorter.resize(20);
    e = open_error(shorter);
    REQUIRE(e);
    CHECK(e->kind() == ErrorKind::kTruncated);
    CHECK(e->offset() == 0);
    CHECK(std::string(e->what()) == "truncated at byte 20: the file ends inside the 32-byte file header");

    try {
        TraceReader r(dir / "missing.hwt");
        FAIL("opened a missing file");
    } catch (const TraceError& err) {
        CHECK(err.kind() == ErrorKind::kIo);
        CHECK(std::string(err.what()) == "cannot open: No such file or directory");
    }

    // A header only: a trace with no blocks yet reads as empty and clean.
    test::write_file(dir / "h.hwt", test::file_header_bytes());
    const auto c = read_all(dir / "h.hwt");
    CHECK(c.events.empty());
    CHECK(c.summary.clean());
}

TEST_CASE("malformed records are reported with kind, field and offset", "[reader]") {
    struct Case {
        const char* name;
        Bytes records;
        std::uint8_t kind;
        const char* field;
    };
    const auto rec = [](auto&& build) {
        RecordWriter w;
        build(w);
        return w.out;
    };
    const std::vector<Case> cases = {
        {"unknown kind", rec([](RecordWriter& w) { w.u8(99); }), 99, "kind"},
        {"string past the block",
         rec([](RecordWriter& w) { w.kind(K::kThreadName).var(0).var(1).var(50).u8('x'); }), 6, "name"},
        {"cut varint", rec([](RecordWriter& w) { w.kind(K::kRss).var(0).u8(0x80); }), 12, "rss_bytes"},
        {"unknown alloc fn",
         rec([](RecordWriter& w) { w.kind(K::kAlloc).var(0).var(0).svar(16).var(8).var(0).u8(11); }),
         8, "fn"},
        {"stack deeper than the limit",
         rec([](RecordWriter& w) { w.kind(K::kStack).var(1).u8(0).var(5000); }), 7, "nown"},
        {"stack id 0", rec([](RecordWriter& w) { w.kind(K::kStack).var(0).u8(0).var(0).var(0).var(0); }),
         7, "id"},
        {"thread beyond 32 bits",
         rec([](RecordWriter& w) { w.kind(K::kThreadExit).var(0).var(1ull << 40); }), 5, "thread"},
        {"base_from past the base",
         rec([](RecordWriter& w) {
             w.kind(K::kStack).var(1).u8(0).var(1).var(0x10).var(0).var(0);
             w.kind(K::kStack).var(2).u8(0).var(0).var(1).var(2);
         }),
         7, "base_from"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        test::TempDir dir;
        Bytes prefix_block;
        RecordWriter ok;
        ok.kind(K::kRss).var(0).var(4096);  // a good record before the bad one is still delivered
        test::append(prefix_block, ok.out);
        test::append(prefix_block, c.records);
        Bytes file = test::file_header_bytes();
        test::append(file, test::block_bytes(prefix_block));
        RecordWriter after;
        after.kind(K::kRss).var(0).var(8192);  // the next block reads fine
        test::append(file, test::block_bytes(after.out));
        test::write_file(dir / "t.hwt", file);
        const auto contents = read_all(dir / "t.hwt");
        REQUIRE(contents.summary.damaged == 1);
        const TraceError& e = contents.summary.damage.front();
        CHECK(e.kind() == ErrorKind::kBadRecord);
        CHECK(e.offset() == sizeof(format::FileHeader));
        CHECK(e.record_kind() == c.kind);
        CHECK(e.field() == c.field);
        const auto rss_count = std::count_if(contents.events.begin(), contents.events.end(),
                                             [](const Event& ev) { return std::holds_alternative<Rss>(ev); });
        CHECK(rss_count == 2);
    }
}

TEST_CASE("the examples in docs/trace-format.md hold", "[reader]") {
    CHECK(format::crc32c("123456789", 9) == 0xE3069283u);
    const Bytes records = {0x07, 0x01, 0x00, 0x03, 0x80, 0xA0, 0x80, 0x02, 0x20, 0x3F, 0x00, 0x00,
                           0x07, 0x02, 0x00, 0x01, 0x80, 0xC0, 0x80, 0x02, 0x01, 0x01};
    Bytes file = test::file_header_bytes();
    test::append(file, test::block_bytes(records, false));
    test::TempDir dir;
    test::write_file(dir / "doc.hwt", file);
    const auto c = read_all(dir / "doc.hwt");
    CHECK(c.summary.clean());
    CHECK(c.stacks.frames(StackId{1}).size() == 3);
    const auto s2 = c.stacks.frames(StackId{2});
    CHECK(std::vector<std::uint64_t>(s2.begin(), s2.end()) ==
          std::vector<std::uint64_t>{0x402000, 0x401010, 0x400ff0});
    RecordWriter w;
    w.var(300);
    CHECK(w.out == Bytes{0xAC, 0x02});
    CHECK(format::zigzag(-2) == 3);
}

TEST_CASE("sized extension records of a later minor version are skipped", "[reader]") {
    RecordWriter w;
    w.kind(K::kRss).var(0).var(4096);
    w.u8(200).var(3).u8(1).u8(2).u8(3);  // unknown sized kind: len 3, three bytes of fields
    w.u8(format::kFirstSizedKind).var(0);  // an empty one
    w.kind(K::kRss).var(0).var(8192);
    Bytes file = test::file_header_bytes();
    test::append(file, test::block_bytes(w.out));
    test::TempDir dir;
    test::write_file(dir / "ext.hwt", file);
    const auto c = read_all(dir / "ext.hwt");
    CHECK(c.summary.clean());
    REQUIRE(c.events.size() == 2);
    CHECK(std::get<Rss>(c.events[1]).rss_bytes == 8192);

    RecordWriter bad;  // a sized record whose length runs past the block is damage, not a skip
    bad.u8(130).var(50).u8(1);
    Bytes file2 = test::file_header_bytes();
    test::append(file2, test::block_bytes(bad.out));
    test::write_file(dir / "ext-bad.hwt", file2);
    const auto c2 = read_all(dir / "ext-bad.hwt");
    REQUIRE(c2.summary.damaged == 1);
    CHECK(c2.summary.damage.front().field() == "len");
}
