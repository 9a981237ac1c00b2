// Sampled mode's set of live sampled block addresses, consulted by every free: a lock-free
// open-addressed table in mmap'd memory (insert CASes an empty or deleted slot, erase CASes the
// address to a tombstone). An address is inserted by the thread that got it from malloc before
// the program can see it, so an insert and an erase of the same address never race.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace heapwise::preload {

class SampledSet {
public:
    bool init(unsigned log2_slots = 18) noexcept;
    void destroy() noexcept;
    // False when the table is full (the block is then recorded without its free being tracked).
    bool insert(std::uintptr_t addr) noexcept;
    // True when addr was in the set (and is now removed).
    bool erase(std::uintptr_t addr) noexcept;

private:
    static constexpr std::uintptr_t kEmpty = 0;
    static constexpr std::uintptr_t kDeleted = 1;
    std::atomic<std::uintptr_t>* slots_ = nullptr;
    std::size_t mask_ = 0;
};

}  // namespace heapwise::preload
