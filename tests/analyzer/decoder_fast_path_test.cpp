// The record decoder's unchecked fast path for kAlloc/kFree (record_fast_path.hpp) against the
// checked decoder and against values the test computes itself: records on both sides of the
// kFastPathMargin boundary, every varint length and odd encoding, and malformed records, whose
// TraceError must be exactly the one the checked decoder gives. Also decode_block_with and
// TraceReader::read_with with a final visitor.
#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analyzer/trace_reader.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;

namespace {

// Alloc and free events as one comparable row each (kind 'a' or 'f').
struct Row {
    char kind;
    std::uint64_t time_ns, thread, addr, size, stack, fn;
    bool operator==(const Row&) const = default;
};

class Rows final : public EventVisitor {
public:
    std::vector<Row> rows;
    void on_alloc(const Alloc& e) override {
        rows.push_back({'a', e.time_ns, static_cast<std::uint64_t>(e.thread), e.addr, e.size,
                        static_cast<std::uint64_t>(e.stack), static_cast<std::uint64_t>(e.fn)});
    }
    void on_free(const Free& e) override {
        rows.push_back({'f', e.time_ns, static_cast<std::uint64_t>(e.thread), e.addr, 0, 0,
                        static_cast<std::uint64_t>(e.fn)});
    }
};

struct Outcome {
    std::vector<Row> rows;
    std::optional<std::string> error;  // what(), record offset and field of a TraceError
    bool operator==(const Outcome&) const = default;
};

// Decodes one block through the virtual interface (decode_block) or a final visitor
// (decode_block_with); both must agree.
Outcome decode(const Bytes& records, std::uint64_t tick_ns = 1) {
    Outcome out[2];
    for (int with = 0; with < 2; ++with) {
        DecodeState state;
        state.tick_ns = tick_ns;
        Rows v;
        try {
            if (with == 0) decode_block(records, 4096, state, static_cast<EventVisitor&>(v));
            else decode_block_with(records, 4096, state, v);
        } catch (const TraceError& e) {
            out[with].error = std::string(e.what()) + " @" + std::to_string(e.record_offset()) + " " +
                              e.field();
        }
        out[with].rows = v.rows;
    }
    CHECK(out[0] == out[1]);
    return out[0];
}

Bytes padding(std::size_t n) { return Bytes(n, static_cast<std::uint8_t>(K::kPadding)); }

// A varint of value v spread over exactly len bytes (len >= the minimal length; overlong encodings
// are valid LEB128 and must decode to v).
void put_var_len(Bytes& out, std::uint64_t v, int len) {
    for (int i = 0; i < len; ++i) {
        const auto low = static_cast<std::uint8_t>(v & 0x7f);
        v >>= 7;
        out.push_back(i + 1 < len ? static_cast<std::uint8_t>(low | 0x80) : low);
    }
}

int min_len(std::uint64_t v) {
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

}  // namespace

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
