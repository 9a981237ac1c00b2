// Single-producer single-consumer ring of Events (folly's ProducerConsumerQueue is the model):
// the owning thread produces, the writer thread consumes. Indices count up forever (no wrap
// arithmetic), sit on their own cache lines, and are published with release / read with
// acquire. Storage is mmap'd by the owner of the ring. Never blocks, never allocates.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "event.hpp"

namespace heapwise::preload {

class SpscRing {
public:
    // slots: capacity Events, capacity a power of two.
    void init(Event* slots, std::uint64_t capacity) noexcept {
        slots_ = slots;
        mask_ = capacity - 1;
        head_.store(0, std::memory_order_relaxed);
        tail_.store(0, std::memory_order_relaxed);
        busy_.store(0, std::memory_order_relaxed);
        cached_tail_ = 0;
        local_head_ = 0;
    }
    std::uint64_t capacity() const noexcept { return mask_ + 1; }

    // ---- producer side ----
    // The next free slot, or nullptr when full. Does not publish.
    Event* try_reserve() noexcept {
        if (local_head_ - cached_tail_ > mask_) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (local_head_ - cached_tail_ > mask_) return nullptr;
        }
        return &slots_[local_head_ & mask_];
    }
    // Makes the reserved slot visible to the consumer.
    void publish() noexcept { head_.store(++local_head_, std::memory_order_release); }
    // The ordering protocol's busy word (see writer.cpp): set before reading the clock.
    void enter_busy() noexcept { busy_.store(1, std::memory_order_seq_cst); }
    void leave_busy() noexcept { busy_.store(0, std::memory_order_release); }

    // ---- consumer side ----
    bool busy() const noexcept { return busy_.load(std::memory_order_acquire) != 0; }
    std::uint64_t head() const noexcept { return head_.load(std::memory_order_acquire); }
    std::uint64_t tail() const noexcept { return tail_.load(std::memory_order_relaxed); }
    const Event& at(std::uint64_t index) const noexcept { return slots_[index & mask_]; }
    // Frees every slot before `index` for the producer.
    void release_to(std::uint64_t index) noexcept { tail_.store(index, std::memory_order_release); }

private:
    alignas(64) std::atomic<std::uint64_t> head_{0};  // written by the producer
    std::uint64_t local_head_ = 0;                    // producer's copy of head_
    std::uint64_t cached_tail_ = 0;                   // producer's last look at tail_
    alignas(64) std::atomic<std::uint64_t> tail_{0};  // written by the consumer
    alignas(64) std::atomic<std::uint32_t> busy_{0};  // producer, between clock read and publish
    alignas(64) Event* slots_ = nullptr;
    std::uint64_t mask_ = 0;
};

}  // namespace heapwise::preload
