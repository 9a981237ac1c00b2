// Storage for marker labels on their way from a thread to the writer: 256 fixed slots of 256
// bytes in mmap'd memory, taken and returned with a CAS on a bitmap. Lock-free, no malloc.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace heapwise::preload {

class LabelSlab {
public:
    static constexpr std::uint32_t kSlots = 256;
    static constexpr std::uint32_t kSlotBytes = 256;
    static constexpr std::uint32_t kNoSlot = 0xffffffffu;

    bool init(void* memory) noexcept {  // memory: kSlots * kSlotBytes bytes
        text_ = static_cast<char*>(memory);
        for (auto& w : used_) w.store(0, std::memory_order_relaxed);
        return text_ != nullptr;
    }
    // Copies label (truncated to 255 bytes) into a free slot; kNoSlot when all are taken.
    std::uint32_t put(const char* label) noexcept {
        if (text_ == nullptr) return kNoSlot;
        for (std::uint32_t w = 0; w < kSlots / 64; ++w) {
            std::uint64_t bits = used_[w].load(std::memory_order_relaxed);
            while (bits != ~0ull) {
                const int bit = __builtin_ctzll(~bits);
                if (used_[w].compare_exchange_weak(bits, bits | (1ull << bit),
                                                   std::memory_order_acquire)) {
                    const std::uint32_t slot = w * 64 + static_cast<std::uint32_t>(bit);
                    char* dst = text_ + slot * kSlotBytes;
                    std::size_t n = label != nullptr ? strnlen(label, kSlotBytes - 1) : 0;
                    if (n != 0) std::memcpy(dst, label, n);
                    dst[n] = '\0';
                    return slot;
                }
            }
        }
        return kNoSlot;
    }
    std::string_view get(std::uint32_t slot) const noexcept {
        if (slot >= kSlots || text_ == nullptr) return {};
        return text_ + slot * kSlotBytes;
    }
    void release(std::uint32_t slot) noexcept {
        if (slot < kSlots) used_[slot / 64].fetch_and(~(1ull << (slot % 64)), std::memory_order_release);
    }

private:
    char* text_ = nullptr;
    std::atomic<std::uint64_t> used_[kSlots / 64] = {};
};

}  // namespace heapwise::preload
