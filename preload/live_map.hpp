// The writer's live aggregation (include/heapwise/tracer_live.h): address -> (size, stack) of the
// live blocks, and per stack id its live bytes and blocks, allocations and bytes allocated,
// updated event by event in merged time order. It applies exactly the rules of the analyzer's
// HeapReplay (analyzer/replay/heap_replay.cpp) and the same sampling weights
// (heapwise/sampling.hpp), so a live snapshot equals an offline replay to the same marker.
// Writer-thread only: no atomics, no locks; memory comes from mmap, never the traced malloc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heapwise/tracer_live.h"

namespace heapwise::preload {

struct LiveUsage {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_count = 0;
    std::uint64_t allocs = 0;
    std::uint64_t bytes_allocated = 0;
};

// A thread's last realloc free (HeapReplay's Pending): a failed realloc restores that block.
struct LivePending {
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    std::uint32_t stack = 0;
    bool known = false;  // the freed address was live
    bool set = false;
};

// address -> block. Open addressing with linear probing and backward-shift deletion (no
// tombstones, so probe chains never degrade); grows by mapping a table twice as large.
class LiveMap {
public:
    struct Block {
        std::uint64_t addr;  // 0: empty slot (the tracer never records address 0)
        std::uint64_t size;
        std::uint32_t stack;
        std::uint32_t pad;
    };
    LiveMap() = default;
    LiveMap(const LiveMap&) = delete;
    LiveMap& operator=(const LiveMap&) = delete;
    // No destructor on purpose (as StackTable): the shim's instance must outlive static
    // destructors at exit, when the writer still runs. Owners that want the memory back call
    // destroy().

    // Stores addr's block; when addr was live already, *replaced gets the old one and true is
    // returned. Sets failed() (and drops the block) when memory runs out.
    bool insert(std::uint64_t addr, std::uint64_t size, std::uint32_t stack, Block* replaced) noexcept;
    // Removes addr's block into *out; false when addr is not live.
    bool erase(std::uint64_t addr, Block* out) noexcept;
    const Block* find(std::uint64_t addr) const noexcept;
    std::size_t size() const noexcept { return count_; }
    std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }
    bool failed() const noexcept { return failed_; }
    void destroy() noexcept;
    // In a fork child: the parent's writer may have been mid-update; drop without touching.
    void forget() noexcept;

private:
    std::size_t home(std::uint64_t addr) const noexcept {
        return static_cast<std::size_t>((addr * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    bool grow() noexcept;

    Block* slots_ = nullptr;
    std::size_t mask_ = 0;
    unsigned shift_ = 64;
    std::size_t count_ = 0;
    bool failed_ = false;
};

class LiveAggregator {
public:
    LiveAggregator() = default;
    LiveAggregator(const LiveAggregator&) = delete;
    LiveAggregator& operator=(const LiveAggregator&) = delete;
    // No destructor on purpose: see LiveMap.

    // A new session: everything forgotten. sample_interval 0 unless the trace is sampled;
    // internal_stack is left out of every figure (0: none).
    void reset(std::uint64_t sample_interval, std::uint32_t internal_stack) noexcept;
    void destroy() noexcept;
    void forget() noexcept;

    void on_alloc(LivePending& thread, std::uint64_t addr, std::uint64_t size, std::uint32_t stack) noexcept;
    void on_free(LivePending& thread, std::uint64_t addr, bool realloc) noexcept;
    void on_realloc_failed(LivePending& thread, std::uint64_t addr) noexcept;

    // Fills out's totals and sites (a fresh mapping that live_release_sites() returns); the
    // other header fields are the caller's. False when memory ran out (now or earlier).
    bool snapshot(heapwise_live_snapshot& out) const noexcept;
    // nullptr for a stack never seen.
    const LiveUsage* usage(std::uint32_t stack) const noexcept {
        return stack < usage_cap_ ? &usage_[stack] : nullptr;
    }
    std::size_t live_blocks() const noexcept { return map_.size(); }
    bool failed() const noexcept { return failed_ || map_.failed(); }

private:
    // The stack's figures, growing the table; nullptr when out of memory.
    LiveUsage* use(std::uint32_t stack) noexcept {
        if (stack >= usage_end_) [[unlikely]] return use_slow(stack);
        return &usage_[stack];
    }
    [[gnu::noinline]] LiveUsage* use_slow(std::uint32_t stack) noexcept;
    bool internal(std::uint32_t stack) const noexcept { return internal_ != 0 && stack == internal_; }
    void add_live(std::uint64_t size, std::uint32_t stack) noexcept;
    void remove_live(std::uint64_t size, std::uint32_t stack) noexcept;

    LiveMap map_;
    LiveUsage* usage_ = nullptr;  // by stack id
    std::size_t usage_cap_ = 0;
    std::size_t usage_end_ = 0;   // 1 + the largest stack id seen
    std::size_t listed_ = 0;      // stacks with allocations, the internal one excepted
    std::uint64_t interval_ = 0;
    std::uint32_t internal_ = 0;
    bool failed_ = false;
};

// Unmaps the sites of a snapshot made by LiveAggregator::snapshot and clears them.
void live_release_sites(heapwise_live_snapshot& snap) noexcept;

}  // namespace heapwise::preload
