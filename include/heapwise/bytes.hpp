// heapwise::Bytes: an owned, contiguous byte buffer allocated from mimalloc (or, by choice, the
// system allocator), so a cache's values return their memory to the OS when they are freed.
// Copying deep-copies; moving steals the buffer. A default or empty Bytes owns no memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "heapwise/export.h"

namespace heapwise {

namespace api {
struct BytesAccess;
}

// Where a Bytes buffer comes from. `system` exists for comparisons (RSS after clear).
enum class Allocator : std::uint8_t { mimalloc, system };

class HEAPWISE_API Bytes {
public:
    Bytes() noexcept = default;
    explicit Bytes(std::span<const std::byte> data, Allocator allocator = Allocator::mimalloc);
    explicit Bytes(std::string_view data, Allocator allocator = Allocator::mimalloc);
    // n bytes of unspecified content; throws std::bad_alloc when the allocator fails.
    static Bytes uninitialized(std::size_t n, Allocator allocator = Allocator::mimalloc);

    Bytes(const Bytes& other);
    Bytes& operator=(const Bytes& other);
    Bytes(Bytes&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          allocator_(other.allocator_) {}
    Bytes& operator=(Bytes&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            allocator_ = other.allocator_;
        }
        return *this;
    }
    ~Bytes() { release(); }

    std::byte* data() noexcept { return data_; }
    const std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::span<const std::byte> span() const noexcept { return {data_, size_}; }
    std::span<std::byte> mutable_span() noexcept { return {data_, size_}; }
    std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(data_), size_};
    }
    Allocator allocator() const noexcept { return allocator_; }
    // Bytes the allocator really reserved for the buffer (mi_usable_size / malloc_usable_size).
    std::size_t usable_size() const noexcept;

    friend bool operator==(const Bytes& a, const Bytes& b) noexcept {
        return a.view() == b.view();
    }

private:
    // The cache takes large buffers over without copying and hands them back (cache_entry.hpp).
    friend struct api::BytesAccess;

    void release() noexcept {
        if (data_ != nullptr) free_buffer();
    }
    void free_buffer() noexcept;

    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    Allocator allocator_ = Allocator::mimalloc;
};

// The usable size an allocator gives a request of n bytes (0 for n == 0), as Bytes::usable_size
// would report it; the cache charges entries with it.
HEAPWISE_API std::size_t allocation_size(std::size_t n, Allocator allocator) noexcept;

}  // namespace heapwise
