// SampledSet (see sampled_set.hpp). Probe chains end at an empty slot, so tombstones keep later
// entries reachable; an insert reuses the first tombstone it meets.
#include "sampled_set.hpp"

#include "sys.hpp"

namespace heapwise::preload {
namespace {
std::size_t slot_of(std::uintptr_t a, std::size_t mask) noexcept {
    return static_cast<std::size_t>(((a >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}
constexpr std::size_t kMaxProbes = 4096;
}  // namespace

bool SampledSet::init(unsigned log2_slots) noexcept {
    destroy();
    mask_ = (std::size_t{1} << log2_slots) - 1;
    slots_ = static_cast<std::atomic<std::uintptr_t>*>(
        sys::map_pages((mask_ + 1) * sizeof(std::atomic<std::uintptr_t>)));
    return slots_ != nullptr;
}

void SampledSet::destroy() noexcept {
    if (slots_ != nullptr) sys::unmap_pages(slots_, (mask_ + 1) * sizeof(std::atomic<std::uintptr_t>));
    slots_ = nullptr;
}

bool SampledSet::insert(std::uintptr_t addr) noexcept {
    if (slots_ == nullptr || addr <= kDeleted) return false;
    std::size_t i = slot_of(addr, mask_);
    for (std::size_t probe = 0; probe < kMaxProbes; ++probe, i = (i + 1) & mask_) {
        std::uintptr_t cur = slots_[i].load(std::memory_order_relaxed);
        while (cur == kEmpty || cur == kDeleted) {
            if (slots_[i].compare_exchange_weak(cur, addr, std::memory_order_release)) return true;
        }
    }
    return false;
}

bool SampledSet::erase(std::uintptr_t addr) noexcept {
    if (slots_ == nullptr || addr <= kDeleted) return false;
    std::size_t i = slot_of(addr, mask_);
    for (std::size_t probe = 0; probe < kMaxProbes; ++probe, i = (i + 1) & mask_) {
        const std::uintptr_t cur = slots_[i].load(std::memory_order_acquire);
        if (cur == kEmpty) return false;
        if (cur == addr) {
            std::uintptr_t expected = addr;
            return slots_[i].compare_exchange_strong(expected, kDeleted, std::memory_order_acq_rel);
        }
    }
    return false;
}

}  // namespace heapwise::preload
