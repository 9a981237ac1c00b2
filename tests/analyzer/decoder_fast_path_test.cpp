// The record decoder's unchecked fast path for kAlloc/kFree (record_fast_path.hpp) against the
// checked decoder and against values the test computes itself: records on both sides of the
// kFastPathMargin boundary, every varint length and odd encoding, and malformed records, whose
// TraceError must be exactly the one the checked decoder gives; long random runs between other
// records. Every block goes through every decoding path (decode_paths.hpp): the virtual interface,
// a final visitor, and the batched runs with the portable and (where the CPU has BMI2) the pext run
// decoder. Also TraceReader::read_with with a final visitor.
#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analyzer/trace_reader.hpp"
#include "decode_paths.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;

using namespace test::decode_paths;


TEST_CASE("fast path: allocs and frees straddling the margin decode to the exact values",
          "[reader][fastpath]") {
    // Fields of every length from 1 to 10 bytes; the test keeps its own time and address.
    std::mt19937_64 rng(7);
    const auto value_of_len = [&](int len) -> std::uint64_t {
        if (len == 10) return rng() | (std::uint64_t{1} << 63);
        const std::uint64_t lo = len == 1 ? 0 : std::uint64_t{1} << (7 * (len - 1));
        return lo + rng() % ((std::uint64_t{1} << (7 * len)) - lo);
    };
    RecordWriter w;
    std::vector<Row> want;
    std::uint64_t ticks = 0, addr = 0;
    for (int i = 0; i < 400; ++i) {
        const std::uint64_t dt = value_of_len(1 + i % 3);
        const auto thread = static_cast<std::uint32_t>(value_of_len(1 + i % 5) & 0xffffffffu);
        const auto delta = static_cast<std::int64_t>(value_of_len(1 + (i * 7) % 10));
        ticks += dt;
        addr += static_cast<std::uint64_t>(delta);
        if (i % 3 != 2) {
            const std::uint64_t size = value_of_len(1 + (i * 3) % 10);
            const auto stack = static_cast<std::uint32_t>(value_of_len(1 + i % 5) & 0xffffffffu);
            const auto fn = static_cast<std::uint8_t>(i % format::kAllocFnCount);
            w.kind(K::kAlloc).var(dt).var(thread).svar(delta).var(size).var(stack).u8(fn);
            want.push_back({'a', ticks * 3, thread, addr, size, stack, fn});
        } else {
            const auto fn = static_cast<std::uint8_t>(i % format::kFreeFnCount);
            w.kind(K::kFree).var(dt).var(thread).svar(delta).u8(fn);
            want.push_back({'f', ticks * 3, thread, addr, 0, 0, fn});
        }
    }
    // Every prefix cut at a record boundary moves the fast/slow boundary across each record.
    Bytes records = w.out;
    const Outcome all = decode(records, 3);
    REQUIRE_FALSE(all.error);
    CHECK(all.rows == want);
    for (std::size_t tail = 0; tail < 80; ++tail) {  // trailing padding shifts where the margin falls
        Bytes b = records;
        test::append(b, padding(tail));
        const Outcome o = decode(b, 3);
        REQUIRE_FALSE(o.error);
        CHECK(o.rows == want);
    }
}

TEST_CASE("fast path: overlong and 10-byte varints decode as the checked decoder reads them",
          "[reader][fastpath]") {
    for (int len = 1; len <= 10; ++len) {
        for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x7f},
                                      std::uint64_t{0x80}, std::uint64_t{0xffffffff}}) {
            if (len < min_len(v)) continue;
            Bytes rec{static_cast<std::uint8_t>(K::kAlloc)};
            put_var_len(rec, v, len);   // dt
            put_var_len(rec, 1, len);   // thread
            put_var_len(rec, v, len);   // addr (zigzag)
            put_var_len(rec, v, len);   // size
            put_var_len(rec, 2, len);   // stack
            rec.push_back(0);
            Bytes fast = rec;
            test::append(fast, padding(detail::kFastPathMargin));
            const Outcome slow = decode(rec);
            REQUIRE_FALSE(slow.error);
            REQUIRE(slow.rows.size() == 1);
            CHECK(slow.rows[0].size == v);
            CHECK(slow.rows[0].addr == static_cast<std::uint64_t>(format::unzigzag(v)));
            CHECK(decode(fast) == slow);
        }
    }
    // A 10th byte with bits above bit 63: get_varint keeps only its lowest bit; so must the fast path.
    Bytes rec{static_cast<std::uint8_t>(K::kFree)};
    rec.insert(rec.end(), {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f});  // dt
    rec.insert(rec.end(), {0x01, 0x02, 0x00});  // thread 1, addr +1, fn 0
    const Outcome slow = decode(rec);
    REQUIRE(slow.rows.size() == 1);
    CHECK(slow.rows[0].time_ns == 1 + (std::uint64_t{1} << 63));
    Bytes fast = rec;
    test::append(fast, padding(detail::kFastPathMargin));
    CHECK(decode(fast) == slow);
}

TEST_CASE("fast path: a malformed alloc or free gives the checked decoder's exact error",
          "[reader][fastpath]") {
    const Bytes eleven(10, 0x80);  // ten continuation bytes: no varint may be that long
    struct Case {
        const char* name;
        Bytes record;
        const char* field;
    };
    auto alloc = [](auto&& fill) {
        RecordWriter w;
        w.kind(K::kAlloc);
        fill(w);
        return w.out;
    };
    std::vector<Case> cases = {
        {"thread over 32 bits", alloc([](RecordWriter& w) { w.var(1).var(1ull << 32).svar(8).var(16).var(1).u8(0); }), "thread"},
        {"stack over 32 bits", alloc([](RecordWriter& w) { w.var(1).var(1).svar(8).var(16).var(1ull << 40).u8(0); }), "stack"},
        {"alloc fn unknown", alloc([](RecordWriter& w) { w.var(1).var(1).svar(8).var(16).var(1).u8(format::kAllocFnCount); }), "fn"},
        {"free fn unknown", RecordWriter{}.kind(K::kFree).var(1).var(1).svar(8).u8(format::kFreeFnCount).out, "fn"},
    };
    for (int field = 0; field < 5; ++field) {  // an 11-byte varint in each alloc field
        RecordWriter w;
        w.kind(K::kAlloc);
        for (int f = 0; f < 5; ++f) {
            if (f == field) test::append(w.out, eleven), w.u8(0);
            else w.var(1);
        }
        w.u8(0);
        cases.push_back({"bad varint", w.out, nullptr});
    }
    for (const auto& c : cases) {
        INFO(c.name);
        // A good alloc first, so the error's record offset is not 0 and the event before it counts.
        Bytes good = RecordWriter{}.kind(K::kAlloc).var(5).var(1).svar(64).var(32).var(1).u8(0).out;
        Bytes slow = good;
        test::append(slow, c.record);
        Bytes fast = slow;
        test::append(fast, padding(detail::kFastPathMargin));
        const Outcome s = decode(slow);
        REQUIRE(s.error);
        CHECK(s.rows.size() == 1);
        if (c.field != nullptr) CHECK(s.error->ends_with(std::string(" ") + c.field));
        CHECK(s.error->find("@" + std::to_string(good.size())) != std::string::npos);
        CHECK(decode(fast) == s);
    }
}

TEST_CASE("fast path: random alloc and free bytes agree with the checked decoder",
          "[reader][fastpath]") {
    // Records whose fields are random bytes (any length, any continuation bits), then zero bytes
    // (kPadding, or zero fields for a record that needs more). With 63 bytes in all, no record
    // ever has kFastPathMargin bytes left, so the checked decoder reads them all; with the margin
    // of padding, the fast path takes every alloc and free it can. Only a record that runs out of
    // bytes may differ, as the two have different lengths.
    std::mt19937_64 rng(11);
    int compared_errors = 0;
    for (int round = 0; round < 20000; ++round) {
        Bytes rec{static_cast<std::uint8_t>(rng() % 2 ? K::kAlloc : K::kFree)};
        const std::size_t n = rng() % 50;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t r = rng();
            // Mostly alloc, free and varint-like bytes, sometimes anything.
            rec.push_back(static_cast<std::uint8_t>(r % 4 == 0 ? r >> 8 : (r >> 8) % 0x90));
        }
        Bytes slow_bytes = rec;
        test::append(slow_bytes, padding(detail::kFastPathMargin - 1 - rec.size()));
        Bytes fast_bytes = rec;
        test::append(fast_bytes, padding(detail::kFastPathMargin));
        const Outcome slow = decode(slow_bytes);
        const Outcome fast = decode(fast_bytes);
        if (slow.error && (slow.error->find("ends early") != std::string::npos ||
                           slow.error->find("runs past") != std::string::npos))
            continue;
        INFO("round " << round << ": " << slow.error.value_or("no error"));
        CHECK(fast == slow);
        if (slow.error) ++compared_errors;
    }
    CHECK(compared_errors > 1000);  // enough malformed records were compared
}

TEST_CASE("fast path: long random runs with other records and one malformed record decode alike",
          "[reader][fastpath]") {
    // Blocks of up to 2000 records: allocs and frees with fields of random length (overlong
    // encodings and 9- and 10-byte varints included), kRss records (which move the time) and
    // padding between runs, and in most blocks one malformed alloc or free at a random place. The
    // test computes every event itself; every decoding path must give exactly those, then the
    // checked decoder's error for the malformed record.
    std::mt19937_64 rng(23);
    const auto pick = [&](std::uint64_t n) { return rng() % n; };
    const auto value_bits = [&](int bits) {  // a value of 0 to `bits` significant bits
        const int b = static_cast<int>(pick(static_cast<std::uint64_t>(bits) + 1));
        return b == 0 ? 0 : (rng() | (std::uint64_t{1} << 63)) >> (64 - b);
    };
    const auto put = [&](Bytes& out, std::uint64_t v) {  // minimal, or now and then overlong
        const int len = min_len(v);
        put_var_len(out, v, pick(8) == 0 ? len + static_cast<int>(pick(11 - len)) : len);
    };
    const Bytes eleven(10, 0x80);
    int errors = 0, runs_over_a_batch = 0;
    for (int block = 0; block < 60; ++block) {
        const std::uint64_t tick_ns = 1 + pick(1000);
        const std::size_t count = 1 + pick(2000);
        const std::size_t bad_at = pick(4) == 0 ? count : pick(count);  // count: no bad record
        Bytes b;
        std::vector<Row> want;
        std::optional<std::string> want_error;  // " @offset field"
        std::uint64_t ticks = 0, addr = 0;
        std::size_t run = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint64_t r = pick(100);
            if (i != bad_at && r < 3) {
                b.push_back(static_cast<std::uint8_t>(K::kPadding));
                run = 0;
                continue;
            }
            if (i != bad_at && r < 6) {
                const std::uint64_t dt = value_bits(20);
                b.push_back(static_cast<std::uint8_t>(K::kRss));
                put(b, dt);
                put(b, value_bits(40));
                ticks += dt;
                run = 0;
                continue;
            }
            const bool is_alloc = pick(2) == 0;
            const std::uint64_t dt = value_bits(pick(10) == 0 ? 64 : 7);
            const std::uint64_t thread = value_bits(pick(10) == 0 ? 32 : 3);
            const std::uint64_t delta = value_bits(pick(10) == 0 ? 64 : 20);  // zigzagged
            const std::uint64_t size = value_bits(pick(10) == 0 ? 64 : 12);
            const std::uint64_t stack = value_bits(pick(10) == 0 ? 32 : 14);
            std::uint64_t fn = pick(is_alloc ? format::kAllocFnCount : format::kFreeFnCount);
            const std::size_t at = b.size();
            b.push_back(static_cast<std::uint8_t>(is_alloc ? K::kAlloc : K::kFree));
            // The malformed record: one field broken, the rest as usual.
            const int fields = is_alloc ? 6 : 4;
            const int broken = i == bad_at ? static_cast<int>(pick(static_cast<std::uint64_t>(fields))) : -1;
            const int how = static_cast<int>(pick(2));  // 0: too long a varint, 1: out of range
            const char* names[] = {"dt", "thread", "addr", "size", "stack", "fn"};
            const std::uint64_t values[] = {dt, thread, delta, size, stack};
            for (int f = 0; f < fields; ++f) {
                const int name = is_alloc || f < 3 ? f : 5;  // a free's fn follows addr
                if (f == broken && name != 5 && (how == 0 || (name != 1 && name != 4))) {
                    test::append(b, eleven);
                    b.push_back(0);
                    want_error = " @" + std::to_string(at) + " " + names[name];
                } else if (f == broken && name != 5) {
                    put(b, (std::uint64_t{1} << 32) + values[name]);  // thread or stack over 32 bits
                    want_error = " @" + std::to_string(at) + " " + names[name];
                } else if (name == 5) {
                    if (f == broken) {
                        fn = (is_alloc ? format::kAllocFnCount : format::kFreeFnCount) + pick(200);
                        want_error = " @" + std::to_string(at) + " fn";
                    }
                    b.push_back(static_cast<std::uint8_t>(fn));
                } else {
                    put(b, values[name]);
                }
            }
            if (i == bad_at) break;
            ticks += dt;
            addr += static_cast<std::uint64_t>(format::unzigzag(delta));
            want.push_back(is_alloc ? Row{'a', ticks * tick_ns, thread, addr, size, stack, fn}
                                    : Row{'f', ticks * tick_ns, thread, addr, 0, 0, fn});
            if (++run == kHeapBatch + 1) ++runs_over_a_batch;
        }
        test::append(b, padding(detail::kFastPathMargin));
        INFO("block " << block);
        const Outcome o = decode(b, tick_ns);
        CHECK(o.rows == want);
        CHECK(o.error.has_value() == want_error.has_value());
        if (o.error && want_error) {
            CHECK(o.error->ends_with(*want_error));
            ++errors;
        }
    }
    CHECK(errors > 30);
    CHECK(runs_over_a_batch > 0);  // some runs were longer than one batch
}

TEST_CASE("read_with a final visitor delivers what read delivers", "[reader][fastpath]") {
    RecordWriter w;
    test::append(w.out, test::process_info_record(1000));
    w.kind(K::kStack).var(1).u8(0).var(1).var(0x401000).var(0).var(0);
    std::uint64_t addr = 0x10000;
    for (int i = 0; i < 3000; ++i) {
        w.kind(K::kAlloc).var(1).var(0).svar(i == 0 ? 0x10000 : 0x40).var(16 + i % 300).var(1).u8(0);
        addr += 0x40;
        if (i % 2 == 1) w.kind(K::kFree).var(1).var(0).svar(-0x40).u8(0).kind(K::kAlloc).var(0)
                            .var(0).svar(0x40).var(8).var(1).u8(1);
    }
    Bytes file = test::file_header_bytes();
    test::append(file, test::block_bytes(w.out));
    test::append(file, test::block_bytes(w.out, false));
    test::TempDir dir;
    test::write_file(dir / "t.hwt", file);

    TraceReader a(dir / "t.hwt");
    Rows via_virtual;
    const ReadSummary sa = a.read(static_cast<EventVisitor&>(via_virtual));
    TraceReader b(dir / "t.hwt");
    Rows via_final;
    const ReadSummary sb = b.read_with(via_final);
    CHECK(sa.clean());
    CHECK(sb.clean());
    CHECK(sa.records == sb.records);
    CHECK(sa.blocks == 2);
    CHECK(sb.blocks == 2);
    REQUIRE(via_virtual.rows.size() == 2 * (3000 + 1500 * 2));
    CHECK(via_final.rows == via_virtual.rows);
    CHECK(via_final.rows[0] == Row{'a', 1000, 0, 0x10000, 16, 1, 0});
    CHECK(b.stacks().frames(StackId{1}).size() == 1);
}
