// Stack interning: each distinct (frames, module generation) gets one StackId, shared by every
// thread. A lock-free open-addressed table in mmap'd memory: an insert claims an empty slot with
// one CAS, copies the frames into an append-only arena, then publishes the id; lookups compare
// frames. No lock, no malloc. The generation (bumped on dlclose) keeps an old id from standing
// for new code mapped at the same addresses.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace heapwise::preload {

enum class StackId : std::uint32_t { kNone = 0 };

class StackTable {
public:
    // log2_slots: table size; the arena holds arena_frames frames in all. False when out of memory.
    bool init(unsigned log2_slots = 20, std::size_t arena_frames = std::size_t{64} << 20) noexcept;
    // No destructor on purpose: the shim's table must outlive static destructors at exit, when
    // the writer still emits stacks. Owners that want the memory back call destroy().
    void destroy() noexcept;

    // Hot path: the id of this stack, kNone when the table or the arena is full.
    StackId intern(std::span<const std::uintptr_t> frames, std::uint32_t generation) noexcept;

    // Frames of an id returned by intern(); valid for the table's life. The caller must have
    // learnt the id through a release/acquire chain from the interning thread (the ring does it).
    std::span<const std::uintptr_t> frames(StackId id) const noexcept;
    std::uint32_t size() const noexcept { return next_id_.load(std::memory_order_acquire); }
    std::uint64_t overflows() const noexcept { return overflows_.load(std::memory_order_relaxed); }

private:
    struct Slot {
        std::atomic<std::uint64_t> key;  // 0 empty, else the hash (never 0)
        std::atomic<std::uint32_t> id;   // 0 while the claimer is filling it in
        std::uint32_t pad;
    };
    struct Entry {
        std::uint64_t offset;  // into arena_
        std::uint32_t depth;
        std::uint32_t generation;
    };
    static constexpr std::uint32_t kBadSlot = 0xffffffffu;  // claimed, but the arena was full

    bool same(std::uint32_t id, std::span<const std::uintptr_t> frames,
              std::uint32_t generation) const noexcept;

    Slot* slots_ = nullptr;
    Entry* entries_ = nullptr;  // by id
    std::uintptr_t* arena_ = nullptr;
    std::size_t mask_ = 0;
    std::size_t max_ids_ = 0;
    std::size_t arena_frames_ = 0;
    std::atomic<std::uint32_t> next_id_{0};
    std::atomic<std::size_t> arena_used_{0};
    std::atomic<std::uint64_t> overflows_{0};
};

}  // namespace heapwise::preload
