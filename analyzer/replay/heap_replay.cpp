// The replay's state machine. A realloc is a free of the old block (kFree, fn kRealloc) then an
// allocation of the new one; a failed realloc restores the block its free removed, so each thread
// remembers its last realloc free until its next event. trace_stats.cpp applies the same rules
// for `heapwise stats`; this one also tracks stacks, temporaries and sampling weights.
#include "analyzer/replay/heap_replay.hpp"

#include <algorithm>

#include "heapwise/sampling.hpp"

namespace heapwise::analyzer {

void HeapReplay::record(std::uint64_t time_ns) {
    if (before_) before_(*this, time_ns);
    ++position_;
    ++facts_.records;
    last_time_ns_ = std::max(last_time_ns_, time_ns);
    facts_.duration_ns = last_time_ns_;
}

HeapReplay::Weight HeapReplay::weight(std::uint64_t size) const noexcept {
    if (!facts_.sampled) return {size, 1};
    const format::SampleWeight w = format::sample_weight(size, facts_.sample_interval);
    return {w.bytes, w.count};
}

void HeapReplay::add_live(const Block& b) {
    if (internal(b.stack)) return;
    const Weight w = weight(b.size);
    StackUsage& u = usage(b.stack);
    u.live_bytes += w.bytes;
    u.live_count += w.count;
    facts_.end_bytes += w.bytes;
    facts_.end_count += w.count;
}

void HeapReplay::remove_live(const Block& b) {
    if (internal(b.stack)) return;
    const Weight w = weight(b.size);
    StackUsage& u = usage(b.stack);
    u.live_bytes -= std::min(u.live_bytes, w.bytes);
    u.live_count -= std::min(u.live_count, w.count);
    facts_.end_bytes -= std::min(facts_.end_bytes, w.bytes);
    facts_.end_count -= std::min(facts_.end_count, w.count);
}

void HeapReplay::on_process_info(const ProcessInfo& e) {
    record(last_time_ns_);
    if (facts_.process) return;
    facts_.process = e;
    facts_.sampled = e.mode == Mode::kSampled && e.sample_interval > 0;
    facts_.sample_interval = e.sample_interval;
}

void HeapReplay::on_module_load(const ModuleLoad& e) {
    record(e.time_ns);
    ModuleImage image{e.path, e.build_id, e.load_bias, {}};
    for (const auto& s : e.segments) image.segments.push_back({s.vaddr, s.memsz, s.offset, s.flags});
    modules_.add(static_cast<std::uint64_t>(e.module), std::move(image), e.time_ns);
}

void HeapReplay::on_module_unload(const ModuleUnload& e) {
    record(e.time_ns);
    modules_.remove(static_cast<std::uint64_t>(e.module), e.time_ns);
}

void HeapReplay::on_stack(const StackDef& e) {
    record(last_time_ns_);
    // The tracer emits a module's load before any stack that needs it (trace_format.hpp), so the
    // current generation resolves this stack's frames even if the module is unloaded later.
    stack_gen_[e.id] = modules_.generation();
}

void HeapReplay::on_internal_stack(const InternalStack& e) {
    record(last_time_ns_);
    if (!internal(e.stack)) internal_.push_back(e.stack);
    if (StackSlot* s = by_stack_.find(e.stack)) *s = StackSlot{};  // the record precedes its use
}

void HeapReplay::on_alloc(const Alloc& e) {
    record(e.time_ns);
    ThreadState& t = threads_.get(e.thread);
    t.has_pending = false;
    t.last_alloc = e.addr;
    t.has_last_alloc = true;
    ++facts_.allocs;
    if (!internal(e.stack)) {
        const Weight w = weight(e.size);
        facts_.bytes_allocated += w.bytes;
        StackUsage& u = usage(e.stack);
        u.allocs += w.count;
        u.bytes_allocated += w.bytes;
    }
    const Block block{e.size, e.stack};
    auto [slot, inserted] = live_.try_emplace(e.addr, block);
    if (!inserted) {  // the trace missed this address's free: its old block is gone
        ++facts_.alloc_of_live;
        remove_live(*slot);
        *slot = block;
    }
    add_live(block);
    if (facts_.end_bytes > facts_.peak_bytes) {
        facts_.peak_bytes = facts_.end_bytes;
        facts_.peak_count = facts_.end_count;
        facts_.peak_time_ns = e.time_ns;
        facts_.peak_position = position_;
    }
}

void HeapReplay::on_free(const Free& e) {
    record(e.time_ns);
    ThreadState& t = threads_.get(e.thread);
    t.has_pending = false;
    const bool follows_its_alloc = t.has_last_alloc && t.last_alloc == e.addr;
    t.has_last_alloc = false;
    if (e.addr == 0) return;
    ++facts_.frees;
    const bool realloc = e.fn == FreeFn::kRealloc || e.fn == FreeFn::kReallocArray;
    Pending pending{e.addr, {}, false};
    if (const Block* b = live_.find(e.addr); b == nullptr) {
        ++facts_.free_of_unknown;
    } else {
        const Block block = *b;
        pending = {e.addr, block, true};
        if (follows_its_alloc && !realloc && !internal(block.stack)) {
            // heaptrack's temporary: freed by its thread's next heap event (a realloc moves the
            // block rather than freeing it, so it does not count).
            const std::uint64_t n = weight(block.size).count;
            facts_.temporary += n;
            usage(block.stack).temporary += n;
        }
        remove_live(block);
        live_.erase(e.addr);
    }
    if (realloc) {
        t.pending = pending;
        t.has_pending = true;
    }
}

void HeapReplay::on_realloc_failed(const ReallocFailed& e) {
    record(e.time_ns);
    ThreadState* t = threads_.find(e.thread);
    if (t == nullptr) return;
    t->has_last_alloc = false;
    if (!t->has_pending || t->pending.addr != e.addr) return;
    if (t->pending.known && live_.try_emplace(e.addr, t->pending.block).second) {
        add_live(t->pending.block);
    }
    t->has_pending = false;
}

void HeapReplay::on_marker(const Marker& e) {
    facts_.markers.push_back({e.time_ns, position_, e.label});
    record(e.time_ns);
}

void HeapReplay::on_rss(const Rss& e) {
    record(e.time_ns);
    facts_.rss.push_back({e.time_ns, e.rss_bytes, facts_.end_bytes});
    facts_.max_rss_bytes = std::max(facts_.max_rss_bytes, e.rss_bytes);
}

void HeapReplay::on_lost(const Lost& e) {
    record(e.time_ns);
    facts_.lost_allocs += e.allocs;
    facts_.lost_frees += e.frees;
    facts_.lost_bytes += e.bytes;
}

Snapshot HeapReplay::snapshot(std::string point) const {
    Snapshot s;
    s.point = std::move(point);
    s.time_ns = last_time_ns_;
    s.position = position_;
    s.live_bytes = facts_.end_bytes;
    s.live_count = facts_.end_count;
    s.estimated = facts_.sampled;
    by_stack_.for_each([&s](StackId id, const StackSlot& slot) {
        if (slot.present) s.stacks.emplace(id, slot.usage);
    });
    s.internal_stacks = internal_;
    return s;
}

}  // namespace heapwise::analyzer
