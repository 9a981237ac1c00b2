// The record decoder's fast path for the two records that make up nearly every trace, kAlloc and
// kFree: no bounds checks, branch-light varints, no field names. Used only where at least
// kFastPathMargin bytes remain in the block, more than any such record can span plus an 8-byte
// load, so no read can leave the block. It never throws and never reports: on anything unusual
// (a varint of 10+ bytes, a value over 32 bits, an unknown fn) it declines, changes nothing, and
// the checked decoder (record_decoder.cpp) takes the record and produces the exact same error.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

#include "analyzer/events.hpp"
#include "heapwise/trace_format.hpp"

namespace heapwise::analyzer::detail {

// kAlloc spans at most 1 + 5 x kMaxVarintSize + 1 = 52 bytes, and every read stays inside them:
// the 8-byte load at a varint's first byte stays inside that varint's 10 bytes of room.
inline constexpr std::size_t kFastPathMargin = 64;

// Where the decoder is in one block, and the block's delta state (both 0 at the block's start).
struct BlockPosition {
    const std::uint8_t* begin;
    const std::uint8_t* p;
    const std::uint8_t* end;
    std::uint64_t ticks = 0;
    std::uint64_t addr = 0;
};

// A varint's value and the byte after it; next is nullptr when the varint is malformed. Returned
// in two registers, so the record's cursor never has to live in memory.
struct Varint {
    const std::uint8_t* next;
    std::uint64_t value;
};

// A varint of 9 or 10 bytes, or a malformed one. Same value as format::get_varint, including the
// bits of a 10th byte that fall off the top.
[[gnu::noinline]] inline Varint fast_varint_long(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < format::kMaxVarintSize; ++i) {
        const std::uint8_t b = p[i];
        v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) return {p + i + 1, v};
    }
    return {nullptr, 0};
}

// One varint at p (8 readable bytes guaranteed). A one-byte value is the common case and takes one
// well-predicted branch; 2 to 8 bytes are found and packed with bit operations, without a branch
// per byte, since address deltas vary in length from record to record.
template <bool kOneByteFirst = true>
inline Varint fast_varint(const std::uint8_t* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian host, as the whole format assumes
    if (kOneByteFirst && (w & 0x80) == 0) return {p + 1, w & 0x7f};
    const std::uint64_t stops = ~w & 0x8080808080808080u;
    if (stops == 0) return fast_varint_long(p);
    const std::uint64_t through_stop = stops ^ (stops - 1);  // bits up to the last byte's high bit
    std::uint64_t x = w & through_stop & 0x7f7f7f7f7f7f7f7fu;
    x = (x & 0x007f007f007f007fu) | ((x & 0x7f007f007f007f00u) >> 1);
    x = (x & 0x00003fff00003fffu) | ((x & 0x3fff00003fff0000u) >> 2);
    x = (x & 0x000000000fffffffu) | ((x & 0x0fffffff00000000u) >> 4);
    return {p + static_cast<unsigned>(__builtin_ctzll(stops) + 1) / 8, x};
}

// The fields kAlloc and kFree start with, after the kind byte: dt, thread, address delta.
struct HeapPrefix {
    const std::uint8_t* next;  // nullptr: declined
    std::uint64_t dt;
    std::uint32_t thread;
    std::uint64_t addr_delta;
};

inline HeapPrefix fast_heap_prefix(const std::uint8_t* kind_at) noexcept {
    constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
    const Varint dt = fast_varint(kind_at + 1);
    if (dt.next == nullptr) return {nullptr, 0, 0, 0};
    const Varint thread = fast_varint(dt.next);
    if (thread.next == nullptr || thread.value > kMax32) return {nullptr, 0, 0, 0};
    const Varint addr = fast_varint<false>(thread.next);
    if (addr.next == nullptr) return {nullptr, 0, 0, 0};
    return {addr.next, dt.value, static_cast<std::uint32_t>(thread.value),
            static_cast<std::uint64_t>(format::unzigzag(addr.value))};
}

// Applies a prefix to the block's deltas (unsigned arithmetic wraps by definition, as in the
// checked decoder) and fills the event's common fields.
template <class Event>
inline void apply_heap_prefix(BlockPosition& pos, std::uint64_t tick_ns, const HeapPrefix& h,
                              Event& e) noexcept {
    pos.ticks += h.dt;
    pos.addr += h.addr_delta;
    e.time_ns = pos.ticks * tick_ns;
    e.thread = ThreadId{h.thread};
    e.addr = pos.addr;
}

// kAlloc at pos.p (its kind byte). True: e is filled and pos advanced past the record.
inline bool fast_alloc(BlockPosition& pos, std::uint64_t tick_ns, Alloc& e) noexcept {
    constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
    const HeapPrefix h = fast_heap_prefix(pos.p);
    if (h.next == nullptr) return false;
    const Varint size = fast_varint<false>(h.next);
    if (size.next == nullptr) return false;
    const Varint stack = fast_varint(size.next);
    if (stack.next == nullptr || stack.value > kMax32) return false;
    const std::uint8_t fn = *stack.next;
    if (fn >= format::kAllocFnCount) return false;
    apply_heap_prefix(pos, tick_ns, h, e);
    e.size = size.value;
    e.stack = StackId{static_cast<std::uint32_t>(stack.value)};
    e.fn = static_cast<AllocFn>(fn);
    pos.p = stack.next + 1;
    return true;
}

// kFree at pos.p (its kind byte). True: e is filled and pos advanced past the record.
inline bool fast_free(BlockPosition& pos, std::uint64_t tick_ns, Free& e) noexcept {
    const HeapPrefix h = fast_heap_prefix(pos.p);
    if (h.next == nullptr) return false;
    const std::uint8_t fn = *h.next;
    if (fn >= format::kFreeFnCount) return false;
    apply_heap_prefix(pos, tick_ns, h, e);
    e.fn = static_cast<FreeFn>(fn);
    pos.p = h.next + 1;
    return true;
}

}  // namespace heapwise::analyzer::detail
