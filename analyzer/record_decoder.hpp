// Turns the records of one block into typed events delivered to an EventVisitor. Applies the
// format's rules: per-block time and address deltas, tick scaling, stack expansion from own
// frames plus base/base_from. Any input yields events or a TraceError(kBadRecord), never undefined
// behaviour: kAlloc and kFree far from the block's end take an unchecked fast path
// (record_fast_path.hpp) that hands anything unusual to the checked decoder, so errors are the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "analyzer/events.hpp"
#include "analyzer/record_fast_path.hpp"
#include "analyzer/stack_table.hpp"
#include "analyzer/trace_error.hpp"

namespace heapwise::analyzer {

// Receives events in file order. Override what you need; the rest are ignored. Strings and
// vectors in the events belong to the caller only for the duration of the call (copy to keep).
class EventVisitor {
public:
    virtual ~EventVisitor() = default;
    virtual void on_process_info(const ProcessInfo&) {}
    virtual void on_module_load(const ModuleLoad&) {}
    virtual void on_module_unload(const ModuleUnload&) {}
    virtual void on_thread_start(const ThreadStart&) {}
    virtual void on_thread_exit(const ThreadExit&) {}
    virtual void on_thread_name(const ThreadName&) {}
    virtual void on_stack(const StackDef&) {}
    virtual void on_internal_stack(const InternalStack&) {}
    virtual void on_alloc(const Alloc&) {}
    virtual void on_free(const Free&) {}
    virtual void on_realloc_failed(const ReallocFailed&) {}
    virtual void on_marker(const Marker&) {}
    virtual void on_rss(const Rss&) {}
    virtual void on_lost(const Lost&) {}
    virtual void on_end(const End&) {}
    // Damage met while reading (corrupt/truncated block, bad record); reading goes on after it.
    virtual void on_damage(const TraceError&) {}
};

// What the decoder carries from one block to the next. Time and address deltas are per block,
// so only the tick, the stacks and a few counters cross block boundaries.
struct DecodeState {
    std::uint64_t tick_ns = 1;        // from ProcessInfo; 1 until it is seen
    bool seen_process_info = false;
    StackTable stacks;
    std::uint64_t records = 0;             // records decoded, kPadding included
    std::uint64_t stacks_missing_base = 0;  // stacks whose base was never defined (lost block)
};

// Decodes every record of one block's decompressed payload. Events before a malformed record
// are delivered; then TraceError(kBadRecord) is thrown with block_offset and the record's offset.
void decode_block(std::span<const std::uint8_t> records, std::uint64_t block_offset,
                  DecodeState& state, EventVisitor& visitor);

namespace detail {
// The checked decoder: decodes the record at pos.p, then every following record up to the end of
// the block or up to one the fast path could take. Throws TraceError(kBadRecord).
void decode_checked(BlockPosition& pos, std::uint64_t block_offset, DecodeState& state,
                    EventVisitor& visitor);
}  // namespace detail

// A visitor that takes runs of heap events: on_heap_events(span<const HeapEvent>) receives each
// run of kAlloc and kFree records the fast path decoded (at most kHeapBatch, in file order, never
// across another kind of record), so it can look ahead within the run (prefetch). Records the
// checked decoder takes still arrive one by one through on_alloc and on_free.
template <class V>
concept HeapBatchVisitor = requires(V& v, std::span<const HeapEvent> events) {
    v.on_heap_events(events);
};

namespace detail {
// Which run decoder decode_block_batched uses: the one chosen for this CPU, or (tests) either.
enum class HeapRun { kForThisCpu, kPortable, kPext };

template <class V, HeapRun kRun = HeapRun::kForThisCpu>
void decode_block_batched(std::span<const std::uint8_t> records, std::uint64_t block_offset,
                          DecodeState& state, V& visitor) {
    BlockPosition pos{records.data(), records.data(), records.data() + records.size()};
    HeapEvent batch[kHeapBatch];
    while (pos.p != pos.end) {
        std::size_t n = 0;
        if constexpr (kRun == HeapRun::kForThisCpu) {
            n = decode_heap_run(pos, state.tick_ns, batch);
        } else {
            n = fast_heap_run<kRun == HeapRun::kPext>(pos, state.tick_ns, batch);
        }
        if (n != 0) {
            visitor.on_heap_events(std::span<const HeapEvent>(batch, n));
            state.records += n;
            if (n == kHeapBatch) continue;
        }
        if (pos.p == pos.end) break;
        decode_checked(pos, block_offset, state, visitor);
    }
}
}  // namespace detail

// decode_block for a visitor of static type V (EventVisitor or a class derived from it), with the
// same events, order and errors. When V is `final`, its on_alloc and on_free are called directly
// and may be inlined into the decoding loop (the per-event virtual call is gone); a
// HeapBatchVisitor gets the fast path's runs through on_heap_events instead; the other kinds
// still go through the virtual interface. TraceReader::read_with(V&) reads a whole file this way.
template <class V>
void decode_block_with(std::span<const std::uint8_t> records, std::uint64_t block_offset,
                       DecodeState& state, V& visitor) {
    static_assert(std::is_base_of_v<EventVisitor, V>, "V must derive from EventVisitor");
    if constexpr (HeapBatchVisitor<V>) {
        detail::decode_block_batched(records, block_offset, state, visitor);
        return;
    }
    using K = format::RecordKind;
    detail::BlockPosition pos{records.data(), records.data(), records.data() + records.size()};
    while (pos.p != pos.end) {
        while (static_cast<std::size_t>(pos.end - pos.p) >= detail::kFastPathMargin) {
            const std::uint8_t kind = *pos.p;
            if (kind == static_cast<std::uint8_t>(K::kAlloc)) {
                Alloc e;
                if (!detail::fast_alloc(pos, state.tick_ns, e)) break;
                visitor.on_alloc(e);
                ++state.records;
            } else if (kind == static_cast<std::uint8_t>(K::kFree)) {
                Free e;
                if (!detail::fast_free(pos, state.tick_ns, e)) break;
                visitor.on_free(e);
                ++state.records;
            } else {
                break;
            }
        }
        if (pos.p == pos.end) break;
        detail::decode_checked(pos, block_offset, state, visitor);
    }
}

}  // namespace heapwise::analyzer
