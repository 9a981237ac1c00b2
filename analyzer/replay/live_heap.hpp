// The live heap rebuilt event by event: the one core behind `heapwise stats` (StatsBuilder), the
// report's HeapReplay and the timeline, so all three apply the same rules and give the same
// figures. Hot path: one call per heap event, inline, one probe of the address table; it never
// allocates except when a table grows, and per-stack work is done only when asked for.
// Part of the analyzer library (header-only) so the statistics need no symbolization.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/replay/addr_map.hpp"
#include "analyzer/replay/block_table.hpp"
#include "heapwise/sampling.hpp"

namespace heapwise::analyzer {

// What one stack holds at a point, and what it did up to that point. Sampled traces: estimates.
struct StackUsage {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t allocs = 0;           // allocations made so far (a realloc's new block included)
    std::uint64_t bytes_allocated = 0;
    std::uint64_t temporary = 0;        // allocations freed by their thread's very next heap event
};

// The figures the core keeps. Bytes and live/peak counts leave out the tracer's internal stack
// (kInternalStack: the program's own bookkeeping, tracer_live.h) and are scaled estimates when
// sampling is set; allocs and frees count every event. Inconsistencies are 0 on an undamaged
// lossless trace.
struct LiveTotals {
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;                   // frees of a non-null address
    std::uint64_t bytes_allocated = 0;
    std::uint64_t temporary = 0;
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t peak_bytes = 0;              // the first time the maximum was reached
    std::uint64_t peak_count = 0;
    std::uint64_t peak_time_ns = 0;
    std::uint64_t free_of_unknown = 0;         // free of an address that is not live
    std::uint64_t alloc_of_live = 0;           // allocation returning an address already live
    std::uint64_t realloc_failed_unknown = 0;  // a failure not right after its thread's realloc free
};

// A realloc is a free of the old block (kFree, fn kRealloc) then an allocation of the new one; a
// failed realloc restores the block its free removed, so each thread remembers its last realloc
// free until its next event. A temporary (heaptrack's term) is a block freed by its thread's very
// next heap event. Not thread-safe.
class LiveHeap {
public:
    // per_stack: keep StackUsage per stack (snapshots need it; totals alone do not).
    explicit LiveHeap(bool per_stack = true) : per_stack_(per_stack) {}

    // Also keep every stack's usage as it was when the peak was first reached, so a snapshot of
    // the peak needs no first pass to find where it is. Each stack changed since the last peak is
    // copied at the next one: amortized O(1) per event. Needs per_stack; set before any event.
    void keep_peak() noexcept { keep_peak_ = per_stack_; }

    // Sampled traces: weigh each block by its inverse sampling probability (sampling.hpp).
    void set_sample_interval(std::uint64_t interval) noexcept { sample_interval_ = interval; }
    bool sampled() const noexcept { return sample_interval_ != 0; }

    // kInternalStack: blocks of this stack stay tracked but count in no byte or live figure. The
    // record precedes the stack's first use, so nothing it did is counted yet.
    void add_internal(StackId stack) {
        if (!internal(stack)) internal_.push_back(stack);
        if (StackSlot* s = by_stack_.find(stack)) {
            const bool dirty = s->dirty;
            *s = StackSlot{};
            s->dirty = dirty;
            mark_dirty(stack, *s);  // a later peak must see it gone
        }
    }
    const std::vector<StackId>& internal_stacks() const noexcept { return internal_; }

    // Each returns true when the live bytes rose to a new peak.
    bool alloc(const Alloc& e) {
        ThreadState& t = threads_.get(e.thread);
        t.has_pending = false;
        t.last_alloc = e.addr;
        ++totals_.allocs;
        const LiveBlock block{e.size, e.stack};
        const bool counted = !internal(e.stack);
        if (counted) {
            const Weight w = weight(e.size);
            totals_.bytes_allocated += w.bytes;
            if (per_stack_) {
                StackUsage& u = usage(e.stack);
                u.allocs += w.count;
                u.bytes_allocated += w.bytes;
            }
        }
        LiveBlock old;
        if (live_.put(e.addr, block, old)) [[unlikely]] {  // the trace missed this address's free
            ++totals_.alloc_of_live;
            remove_live(old);
        }
        if (!counted) return false;
        add_live(block);
        if (totals_.live_bytes <= totals_.peak_bytes) return false;
        totals_.peak_bytes = totals_.live_bytes;
        totals_.peak_count = totals_.live_count;
        totals_.peak_time_ns = e.time_ns;
        if (keep_peak_) save_peak();
        return true;
    }

    void free(const Free& e) {
        ThreadState& t = threads_.get(e.thread);
        t.has_pending = false;
        const bool follows_its_alloc = t.last_alloc == e.addr;
        t.last_alloc = 0;
        if (e.addr == 0) return;
        ++totals_.frees;
        const bool realloc = e.fn == FreeFn::kRealloc || e.fn == FreeFn::kReallocArray;
        LiveBlock block;
        const bool known = live_.take(e.addr, block);
        if (!known) [[unlikely]] {
            ++totals_.free_of_unknown;
        } else if (!internal(block.stack)) {
            const Weight w = weight(block.size);
            if (follows_its_alloc && !realloc) {
                // A realloc moves the block rather than freeing it, so it is no temporary.
                totals_.temporary += w.count;
                if (per_stack_) usage(block.stack).temporary += w.count;
            }
            subtract_live(block.stack, w);
        }
        if (realloc) {
            t.pending = {e.addr, block, known};
            t.has_pending = true;
        }
    }

    void realloc_failed(const ReallocFailed& e) {
        ThreadState* t = threads_.find(e.thread);
        if (t != nullptr) t->last_alloc = 0;
        if (t == nullptr || !t->has_pending || t->pending.addr != e.addr) {
            ++totals_.realloc_failed_unknown;
            return;
        }
        t->has_pending = false;
        const LiveBlock b = t->pending.block;
        if (t->pending.known && live_.add(e.addr, b) && !internal(b.stack)) add_live(b);
    }

    // alloc() or free() for each event in order, with the same results, each event's slot in the
    // address table prefetched kLookahead events ahead: on a table larger than the cache a probe
    // otherwise waits on memory for every event. after(e, live_bytes) runs after each one with the
    // live bytes then (totals() is brought up to date at the end of the run).
    // Totals only (no per-stack figures, no sampling, at most one internal stack), an event is
    // one try_put() or try_take() of the address table and a few additions, with no call and no
    // test of those modes; the rare cases (address 0, a realloc's free, the side map, an
    // inconsistency, growth) go to alloc() and free() behind one well-predicted branch.
    static constexpr std::size_t kLookahead = 8;
    template <std::size_t kAhead = kLookahead, class F>
    void apply(std::span<const HeapEvent> events, F&& after) {
        const std::size_t n = events.size();
        for (std::size_t i = 0; i < n && i < kAhead; ++i) live_.prefetch(events[i].addr);
        if (per_stack_ || sample_interval_ != 0 || internal_.size() > 1) [[unlikely]] {
            for (std::size_t i = 0; i < n; ++i) {
                if (i + kAhead < n) live_.prefetch(events[i + kAhead].addr);
                const HeapEvent& e = events[i];
                apply_one(e);
                after(e, totals_.live_bytes);
            }
            return;
        }
        // A stack id no slot holds (over kMaxInlineStack) when there is no internal stack.
        const std::uint32_t internal_id =
            internal_.empty() ? ~std::uint32_t{0} : static_cast<std::uint32_t>(internal_.front());
        // The totals in locals: stores to the table or a thread's state could alias the members.
        LiveTotals t = totals_;
        ThreadState* ts = nullptr;  // runs are mostly one thread's: its state is looked up once
        ThreadId tid{};
        for (std::size_t i = 0; i < n; ++i) {
            if (i + kAhead < n) live_.prefetch(events[i + kAhead].addr);
            const HeapEvent& e = events[i];
            if (ts == nullptr || e.thread != tid) [[unlikely]] {
                tid = e.thread;
                ts = &threads_.get(tid);
            }
            if (e.is_alloc) {
                if (!live_.try_put(e.addr, {e.size, e.stack})) [[unlikely]] {
                    apply_rare(e, t, ts);
                } else {
                    ts->has_pending = false;
                    ts->last_alloc = e.addr;
                    ++t.allocs;
                    if (static_cast<std::uint32_t>(e.stack) != internal_id) [[likely]] {
                        t.bytes_allocated += e.size;
                        t.live_bytes += e.size;
                        ++t.live_count;
                        if (t.live_bytes > t.peak_bytes) [[unlikely]] {
                            t.peak_bytes = t.live_bytes;
                            t.peak_count = t.live_count;
                            t.peak_time_ns = e.time_ns;
                        }
                    }
                }
            } else {
                LiveBlock b;
                // A realloc's free must be remembered for a failed realloc: free() does it.
                if (static_cast<unsigned>(e.fn) - 1u < 2u || !live_.try_take(e.addr, b)) [[unlikely]] {
                    apply_rare(e, t, ts);
                } else {
                    ts->has_pending = false;
                    const bool follows_its_alloc = ts->last_alloc == e.addr;
                    ts->last_alloc = 0;
                    ++t.frees;
                    if (static_cast<std::uint32_t>(b.stack) != internal_id) [[likely]] {
                        t.temporary += follows_its_alloc;
                        // Clamped as subtract_live() does.
                        t.live_bytes -= std::min(t.live_bytes, b.size);
                        t.live_count -= std::min<std::uint64_t>(t.live_count, 1);
                    }
                }
            }
            after(e, t.live_bytes);
        }
        totals_ = t;
    }

    const LiveTotals& totals() const noexcept { return totals_; }
    // f(StackId, const StackUsage&) for every stack that allocated (per_stack only).
    template <class F>
    void for_each_stack(F&& f) const {
        by_stack_.for_each([&f](StackId id, const StackSlot& s) {
            if (s.present) f(id, s.usage);
        });
    }
    // The same at the peak (keep_peak only).
    template <class F>
    void for_each_peak_stack(F&& f) const {
        peak_.for_each([&f](StackId id, const StackSlot& s) {
            if (s.present) f(id, s.usage);
        });
    }

private:
    using Block = LiveBlock;

    struct Weight {
        std::uint64_t bytes = 0;
        std::uint64_t count = 0;
    };
    struct Pending {  // a thread's last realloc free, restored if the realloc fails
        std::uint64_t addr = 0;
        Block block;
        bool known = false;  // the freed block was live
    };
    struct ThreadState {
        Pending pending;
        // The thread's last alloc if its last heap event was one, else 0 (an alloc of address 0
        // may leave 0 too: only frees of non-null addresses ask).
        std::uint64_t last_alloc = 0;
        bool has_pending = false;
    };
    struct StackSlot {
        StackUsage usage;
        bool present = false;  // the stack allocated (snapshots list only those)
        bool dirty = false;    // keep_peak: changed since the last peak, listed in dirty_
    };

    void apply_one(const HeapEvent& e) {
        if (e.is_alloc) {
            alloc(e.as_alloc());
        } else {
            free(e.as_free());
        }
    }
    // apply()'s rare events, with its local totals; its thread state pointer is looked up again
    // (a new thread may have grown the table).
    [[gnu::noinline, gnu::cold]] void apply_rare(const HeapEvent& e, LiveTotals& t, ThreadState*& ts) {
        totals_ = t;
        apply_one(e);
        t = totals_;
        ts = &threads_.get(e.thread);
    }

    StackUsage& usage(StackId stack) {
        StackSlot& s = by_stack_.get(stack);
        s.present = true;
        mark_dirty(stack, s);
        return s.usage;
    }
    void mark_dirty(StackId stack, StackSlot& s) {
        if (!keep_peak_ || s.dirty) return;
        s.dirty = true;
        dirty_.push_back(stack);
    }
    void save_peak() {
        for (const StackId id : dirty_) {
            StackSlot& s = by_stack_.get(id);
            s.dirty = false;
            peak_.get(id) = s;
        }
        dirty_.clear();
    }
    bool internal(StackId stack) const noexcept {
        return !internal_.empty() && std::find(internal_.begin(), internal_.end(), stack) != internal_.end();
    }
    Weight weight(std::uint64_t size) const noexcept {
        if (sample_interval_ == 0) return {size, 1};
        const format::SampleWeight w = format::sample_weight(size, sample_interval_);
        return {w.bytes, w.count};
    }
    void add_live(const Block& b) {
        const Weight w = weight(b.size);
        totals_.live_bytes += w.bytes;
        totals_.live_count += w.count;
        if (per_stack_) {
            StackUsage& u = usage(b.stack);
            u.live_bytes += w.bytes;
            u.live_count += w.count;
        }
    }
    // Clamped: a corrupt trace may free what it never counted, never wrap a figure around.
    void subtract_live(StackId stack, const Weight& w) {
        totals_.live_bytes -= std::min(totals_.live_bytes, w.bytes);
        totals_.live_count -= std::min(totals_.live_count, w.count);
        if (per_stack_) {
            StackUsage& u = usage(stack);
            u.live_bytes -= std::min(u.live_bytes, w.bytes);
            u.live_count -= std::min(u.live_count, w.count);
        }
    }
    void remove_live(const Block& b) {
        if (!internal(b.stack)) subtract_live(b.stack, weight(b.size));
    }

    bool per_stack_;
    bool keep_peak_ = false;
    std::uint64_t sample_interval_ = 0;
    LiveTotals totals_;
    BlockTable live_;
    DenseTable<StackId, StackSlot> by_stack_;    // stack ids are dense from 1
    DenseTable<ThreadId, ThreadState> threads_;  // thread indexes are dense from 0
    std::vector<StackId> internal_;              // one per tracing session; rarely more than one
    DenseTable<StackId, StackSlot> peak_;        // keep_peak: the slots as at the peak
    std::vector<StackId> dirty_;                 // keep_peak: stacks changed since the last peak
};

}  // namespace heapwise::analyzer
