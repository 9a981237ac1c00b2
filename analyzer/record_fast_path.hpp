// The record decoder's fast path for the two records that make up nearly every trace, kAlloc and
// kFree: no bounds checks, branch-light varints, no field names. Used only where at least
// kFastPathMargin bytes remain in the block, more than any such record can span plus an 8-byte
// load, so no read can leave the block. It never throws and never reports: on anything unusual
// (a varint of 10+ bytes, a value over 32 bits, an unknown fn) it declines, changes nothing, and
// the checked decoder (record_decoder.cpp) takes the record and produces the exact same error.
// It must never read outside the margin, write past a run's kHeapBatch events, or keep a record
// it declined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "analyzer/events.hpp"
#include "heapwise/trace_format.hpp"

namespace heapwise::analyzer {
// The most kAlloc and kFree records the batched decoder hands over in one run (on_heap_events).
inline constexpr std::size_t kHeapBatch = 64;
}  // namespace heapwise::analyzer

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

// The value of a varint's bytes, given as the 8 bytes from its first one with everything past its
// last byte cleared (continuation bits may be set): the 7-bit groups packed together. kPext uses
// BMI2's pext, one instruction, and must run only where the CPU has it (cpu_has_bmi2()); written
// as inline asm so no function needs a BMI2 target attribute and the portable build stays the same.
template <bool kPext>
inline std::uint64_t pack_varint_bytes(std::uint64_t bytes) noexcept {
#if defined(__x86_64__)
    if constexpr (kPext) {
        std::uint64_t x;
        asm("pextq %2, %1, %0" : "=r"(x) : "r"(bytes), "r"(0x7f7f7f7f7f7f7f7fu));
        return x;
    }
#else
    static_assert(!kPext, "pext is x86-64 only");
#endif
    std::uint64_t x = bytes & 0x7f7f7f7f7f7f7f7fu;
    x = (x & 0x007f007f007f007fu) | ((x & 0x7f007f007f007f00u) >> 1);
    x = (x & 0x00003fff00003fffu) | ((x & 0x3fff00003fff0000u) >> 2);
    x = (x & 0x000000000fffffffu) | ((x & 0x0fffffff00000000u) >> 4);
    return x;
}

// One varint at p (8 readable bytes guaranteed). A one-byte value is the common case and takes one
// well-predicted branch; 2 to 8 bytes are found and packed with bit operations, without a branch
// per byte, since address deltas vary in length from record to record. The length is computed in
// unsigned arithmetic so the next field's address is one shift and one lea away from the load:
// that chain, field to field and record to record, is what bounds the decoder.
template <bool kOneByteFirst = true, bool kPext = false>
inline Varint fast_varint(const std::uint8_t* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian host, as the whole format assumes
    if (kOneByteFirst && (w & 0x80) == 0) return {p + 1, w & 0x7f};
    const std::uint64_t stops = ~w & 0x8080808080808080u;
    if (stops == 0) [[unlikely]] return fast_varint_long(p);
    const std::uint64_t through_stop = stops ^ (stops - 1);  // bits up to the last byte's high bit
    const unsigned last_byte = static_cast<unsigned>(__builtin_ctzll(stops)) / 8;
    return {p + last_byte + 1, pack_varint_bytes<kPext>(w & through_stop)};
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

// Decodes the run of kAlloc and kFree records at pos.p into out (room for kHeapBatch) and
// returns how many: it stops before the first record of another kind, the first it declines, the
// kHeapBatch-th, or where fewer than kFastPathMargin bytes remain. pos (cursor and deltas) is
// advanced past the run. The cursor, time and address live in registers for the whole run and go
// back to pos once, since pos is in memory (the checked decoder takes its address); the kind
// picks the alloc tail (size, stack) or none. Same values and declines as fast_alloc/fast_free.
template <bool kPext>
inline std::size_t fast_heap_run(BlockPosition& pos, std::uint64_t tick_ns, HeapEvent* out) noexcept {
    constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
    constexpr auto kAllocKind = static_cast<std::uint8_t>(format::RecordKind::kAlloc);
    constexpr auto kFreeKind = static_cast<std::uint8_t>(format::RecordKind::kFree);
    const std::uint8_t* p = pos.p;
    if (static_cast<std::size_t>(pos.end - p) < kFastPathMargin) return 0;
    const std::uint8_t* const last_start = pos.end - kFastPathMargin;
    std::uint64_t ticks = pos.ticks;
    std::uint64_t addr = pos.addr;
    std::size_t n = 0;
    do {
        const std::uint8_t kind = *p;
        if (kind != kAllocKind && kind != kFreeKind) break;
        const Varint dt = fast_varint<true, kPext>(p + 1);
        if (dt.next == nullptr) break;
        const Varint thread = fast_varint<true, kPext>(dt.next);
        if (thread.next == nullptr || thread.value > kMax32) break;
        const Varint delta = fast_varint<false, kPext>(thread.next);
        if (delta.next == nullptr) break;
        HeapEvent& e = out[n];
        const std::uint8_t* fn_at = delta.next;
        if (kind == kAllocKind) {
            const Varint size = fast_varint<false, kPext>(delta.next);
            if (size.next == nullptr) break;
            const Varint stack = fast_varint<true, kPext>(size.next);
            if (stack.next == nullptr || stack.value > kMax32) break;
            fn_at = stack.next;
            if (*fn_at >= format::kAllocFnCount) break;
            e.size = size.value;
            e.stack = StackId{static_cast<std::uint32_t>(stack.value)};
            e.is_alloc = true;
        } else {
            if (*fn_at >= format::kFreeFnCount) break;
            e.size = 0;
            e.stack = StackId{};
            e.is_alloc = false;
        }
        ticks += dt.value;  // unsigned: wraps by definition, as in the checked decoder
        addr += static_cast<std::uint64_t>(format::unzigzag(delta.value));
        e.time_ns = ticks * tick_ns;
        e.addr = addr;
        e.thread = ThreadId{static_cast<std::uint32_t>(thread.value)};
        e.fn = *fn_at;
        p = fn_at + 1;
        ++n;
    } while (n < kHeapBatch && p <= last_start);
    pos.p = p;
    pos.ticks = ticks;
    pos.addr = addr;
    return n;
}

// True when this CPU has BMI2 (pext), so fast_heap_run<true> may run.
bool cpu_has_bmi2() noexcept;

// fast_heap_run with pext where the CPU has a fast one (Intel since Haswell, AMD since Zen 3: on
// Zen 1 and 2 it is microcoded and slower than the portable code), portable otherwise. Decided
// once per process (record_decoder.cpp).
std::size_t decode_heap_run(BlockPosition& pos, std::uint64_t tick_ns, HeapEvent* out) noexcept;

}  // namespace heapwise::analyzer::detail
