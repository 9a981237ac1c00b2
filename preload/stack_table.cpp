// StackTable (see stack_table.hpp). Memory is reserved with mmap and touched as it fills, so a
// program with few distinct stacks pays for few pages.
#include "stack_table.hpp"

#include <sys/mman.h>

#include <cstring>

#include "sys.hpp"

namespace heapwise::preload {
namespace {

std::uint64_t hash_stack(std::span<const std::uintptr_t> frames, std::uint32_t generation) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (generation * 0xC2B2AE3D27D4EB4Full) ^ frames.size();
    for (const std::uintptr_t f : frames) {
        h = (h ^ f) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return h == 0 ? 1 : h;
}

void* reserve(std::size_t bytes) noexcept {
    void* p = mmap(nullptr, sys::page_round(bytes), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

bool StackTable::init(unsigned log2_slots, std::size_t arena_frames) noexcept {
    destroy();
    const std::size_t n = std::size_t{1} << log2_slots;
    mask_ = n - 1;
    max_ids_ = n - n / 4;  // keep probe chains short
    arena_frames_ = arena_frames;
    slots_ = static_cast<Slot*>(reserve(n * sizeof(Slot)));
    entries_ = static_cast<Entry*>(reserve((max_ids_ + 1) * sizeof(Entry)));
    arena_ = static_cast<std::uintptr_t*>(reserve(arena_frames * sizeof(std::uintptr_t)));
    next_id_.store(0, std::memory_order_relaxed);
    arena_used_.store(0, std::memory_order_relaxed);
    overflows_.store(0, std::memory_order_relaxed);
    if (slots_ == nullptr || entries_ == nullptr || arena_ == nullptr) {
        destroy();
        return false;
    }
    return true;
}

void StackTable::destroy() noexcept {
    if (slots_ != nullptr) munmap(slots_, sys::page_round((mask_ + 1) * sizeof(Slot)));
    if (entries_ != nullptr) munmap(entries_, sys::page_round((max_ids_ + 1) * sizeof(Entry)));
    if (arena_ != nullptr) munmap(arena_, sys::page_round(arena_frames_ * sizeof(std::uintptr_t)));
    slots_ = nullptr;
    entries_ = nullptr;
    arena_ = nullptr;
}

bool StackTable::same(std::uint32_t id, std::span<const std::uintptr_t> frames,
                      std::uint32_t generation) const noexcept {
    const Entry& e = entries_[id];
    return e.depth == frames.size() && e.generation == generation &&
           (frames.empty() || std::memcmp(arena_ + e.offset, frames.data(), frames.size_bytes()) == 0);
}

StackId StackTable::intern(std::span<const std::uintptr_t> frames,
                           std::uint32_t generation) noexcept {
    if (slots_ == nullptr) return StackId::kNone;
    const std::uint64_t h = hash_stack(frames, generation);
    for (std::size_t probe = 0, i = h & mask_; probe <= mask_; ++probe, i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        std::uint64_t k = s.key.load(std::memory_order_acquire);
        if (k == 0) {
            if (next_id_.load(std::memory_order_relaxed) >= max_ids_) break;
            if (s.key.compare_exchange_strong(k, h, std::memory_order_acq_rel)) {
                const std::size_t off = arena_used_.fetch_add(frames.size(), std::memory_order_relaxed);
                const std::uint32_t id = next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
                if (off + frames.size() > arena_frames_ || id > max_ids_) {
                    s.id.store(kBadSlot, std::memory_order_release);
                    break;
                }
                if (!frames.empty()) std::memcpy(arena_ + off, frames.data(), frames.size_bytes());
                entries_[id] = Entry{off, static_cast<std::uint32_t>(frames.size()), generation};
                s.id.store(id, std::memory_order_release);
                return static_cast<StackId>(id);
            }
            // Lost the race: k now holds the winner's key; fall through and compare.
        }
        if (k != h) continue;
        // Same hash: wait (briefly) for the claimer to publish. A claimer that never finishes
        // (it was in another thread when the process forked) is skipped after the bound.
        std::uint32_t id = s.id.load(std::memory_order_acquire);
        for (int spin = 0; id == 0 && spin < (1 << 20); ++spin) {
            __builtin_ia32_pause();
            id = s.id.load(std::memory_order_acquire);
        }
        if (id == 0 || id == kBadSlot) continue;
        if (same(id, frames, generation)) return static_cast<StackId>(id);
    }
    overflows_.fetch_add(1, std::memory_order_relaxed);
    return StackId::kNone;
}

std::span<const std::uintptr_t> StackTable::frames(StackId id) const noexcept {
    const auto i = static_cast<std::uint32_t>(id);
    if (i == 0 || i > max_ids_ || entries_ == nullptr) return {};
    const Entry& e = entries_[i];
    return {arena_ + e.offset, e.depth};
}

}  // namespace heapwise::preload
