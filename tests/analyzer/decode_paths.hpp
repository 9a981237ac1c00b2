// Helpers for the decoder's tests (decoder_fast_path_test.cpp): alloc and free events as
// comparable rows, and decode(), which decodes one block through every path the decoder has (the
// virtual interface, a final visitor, the batched runs with each run decoder) and checks that they
// agree, down to the records counted. Header-only: it is part of that one test program.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "analyzer/record_decoder.hpp"
#include "trace_bytes.hpp"

namespace heapwise::test::decode_paths {

using namespace heapwise::analyzer;

// Alloc and free events as one comparable row each (kind 'a' or 'f').
struct Row {
    char kind;
    std::uint64_t time_ns, thread, addr, size, stack, fn;
    bool operator==(const Row&) const = default;
};

inline Row row_of(const Alloc& e) {
    return {'a', e.time_ns, static_cast<std::uint64_t>(e.thread), e.addr, e.size,
            static_cast<std::uint64_t>(e.stack), static_cast<std::uint64_t>(e.fn)};
}
inline Row row_of(const Free& e) {
    return {'f', e.time_ns, static_cast<std::uint64_t>(e.thread), e.addr, 0, 0,
            static_cast<std::uint64_t>(e.fn)};
}

class Rows final : public EventVisitor {
public:
    std::vector<Row> rows;
    void on_alloc(const Alloc& e) override { rows.push_back(row_of(e)); }
    void on_free(const Free& e) override { rows.push_back(row_of(e)); }
};

// Takes the decoder's runs (HeapBatchVisitor) as well as single events from the checked decoder.
class BatchRows final : public EventVisitor {
public:
    std::vector<Row> rows;
    std::size_t runs = 0;
    std::size_t longest_run = 0;
    void on_alloc(const Alloc& e) override { rows.push_back(row_of(e)); }
    void on_free(const Free& e) override { rows.push_back(row_of(e)); }
    void on_heap_events(std::span<const HeapEvent> run) {
        ++runs;
        longest_run = std::max(longest_run, run.size());
        for (const HeapEvent& e : run) rows.push_back(e.is_alloc ? row_of(e.as_alloc()) : row_of(e.as_free()));
    }
};

struct Outcome {
    std::vector<Row> rows;
    std::optional<std::string> error;  // what(), record offset and field of a TraceError
    bool operator==(const Outcome&) const = default;
};

inline std::string describe(const TraceError& e) {
    return std::string(e.what()) + " @" + std::to_string(e.record_offset()) + " " + e.field();
}

// Runs one decoding of a block (run(state, visitor)) with a fresh state and visitor of type V.
template <class V, class Decode>
Outcome decode_one(std::uint64_t tick_ns, std::uint64_t& records_seen, Decode&& run) {
    DecodeState state;
    state.tick_ns = tick_ns;
    V v;
    Outcome out;
    try {
        run(state, v);
    } catch (const TraceError& e) {
        out.error = describe(e);
    }
    out.rows = v.rows;
    records_seen = state.records;
    if constexpr (std::is_same_v<V, BatchRows>) CHECK(v.longest_run <= kHeapBatch);
    return out;
}

template <detail::HeapRun kRun>
Outcome decode_batched(const Bytes& records, std::uint64_t tick_ns, std::uint64_t& seen) {
    return decode_one<BatchRows>(tick_ns, seen, [&](DecodeState& s, BatchRows& v) {
        detail::decode_block_batched<BatchRows, kRun>(records, 4096, s, v);
    });
}

// Decodes one block through the virtual interface (decode_block), a final visitor
// (decode_block_with), and the batched path with each run decoder; all must agree, down to the
// number of records counted.
inline Outcome decode(const Bytes& records, std::uint64_t tick_ns = 1) {
    std::vector<Outcome> out;
    std::vector<std::uint64_t> seen(5);
    out.push_back(decode_one<Rows>(tick_ns, seen[0], [&](DecodeState& s, Rows& v) {
        decode_block(records, 4096, s, static_cast<EventVisitor&>(v));
    }));
    out.push_back(decode_one<Rows>(tick_ns, seen[1], [&](DecodeState& s, Rows& v) {
        decode_block_with(records, 4096, s, v);
    }));
    out.push_back(decode_one<BatchRows>(tick_ns, seen[2], [&](DecodeState& s, BatchRows& v) {
        decode_block_with(records, 4096, s, v);  // the run decoder chosen for this CPU
    }));
    out.push_back(decode_batched<detail::HeapRun::kPortable>(records, tick_ns, seen[3]));
    if (detail::cpu_has_bmi2()) {
        out.push_back(decode_batched<detail::HeapRun::kPext>(records, tick_ns, seen[4]));
    } else {
        seen.pop_back();
    }
    for (std::size_t i = 1; i < out.size(); ++i) {
        INFO("path " << i);
        CHECK(out[i] == out[0]);
        CHECK(seen[i] == seen[0]);
    }
    return out[0];
}

inline Bytes padding(std::size_t n) { return Bytes(n, static_cast<std::uint8_t>(format::RecordKind::kPadding)); }

// A varint of value v spread over exactly len bytes (len >= the minimal length; overlong encodings
// are valid LEB128 and must decode to v).
inline void put_var_len(Bytes& out, std::uint64_t v, int len) {
    for (int i = 0; i < len; ++i) {
        const auto low = static_cast<std::uint8_t>(v & 0x7f);
        v >>= 7;
        out.push_back(i + 1 < len ? static_cast<std::uint8_t>(low | 0x80) : low);
    }
}

inline int min_len(std::uint64_t v) {
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

}  // namespace heapwise::test::decode_paths
