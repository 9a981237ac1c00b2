// heapwise::Bytes: an owned, contiguous byte buffer allocated from mimalloc (or, by choice, the
// system allocator), so a cache's values return their memory to the OS when they are freed.
// Copying deep-copies; moving steals the buffer. A default or empty Bytes owns no memory.
// heapwise::SharedBytes: a refcounted handle on an immutable value (Cache::get_shared): copying
// it shares the value, and the value lives until the last handle goes, whatever the cache does.
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
struct SharedAccess;
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

// A read-only value shared by reference: the cache's own copy (no allocation, no memcpy on a
// hit), kept alive by a reference count until the last handle is destroyed, even after the entry
// was evicted, replaced, erased, cleared or the cache destroyed. Handles may be copied, moved and
// dropped on any thread. A default SharedBytes is empty and holds nothing.
class HEAPWISE_API SharedBytes {
public:
    SharedBytes() noexcept = default;
    SharedBytes(const SharedBytes& other) noexcept
        : data_(other.data_), size_(other.size_), owner_(other.owner_) {
        if (owner_ != nullptr) retain();
    }
    SharedBytes& operator=(const SharedBytes& other) noexcept {
        SharedBytes copy(other);
        swap(copy);
        return *this;
    }
    SharedBytes(SharedBytes&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          owner_(std::exchange(other.owner_, nullptr)) {}
    SharedBytes& operator=(SharedBytes&& other) noexcept {
        SharedBytes taken(std::move(other));
        swap(taken);
        return *this;
    }
    ~SharedBytes() {
        if (owner_ != nullptr) release();
    }
    void reset() noexcept { SharedBytes().swap(*this); }
    void swap(SharedBytes& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(owner_, other.owner_);
    }

    const std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::span<const std::byte> span() const noexcept { return {data_, size_}; }
    std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(data_), size_};
    }
    // An owned deep copy (to modify it, or to hand it to an API that takes Bytes).
    Bytes to_bytes(Allocator allocator = Allocator::mimalloc) const {
        return Bytes(span(), allocator);
    }
    // References on the value: handles sharing it, plus one while a cache still holds it
    // (0 for an empty handle). A snapshot for tests and diagnostics.
    std::size_t use_count() const noexcept;

    friend bool operator==(const SharedBytes& a, const SharedBytes& b) noexcept {
        return a.view() == b.view();
    }

private:
    friend struct api::SharedAccess;
    void retain() const noexcept;
    void release() noexcept;

    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    void* owner_ = nullptr;  // the block holding the value and its count (api/cache_shared.hpp)
};

// Values that no cache holds any more but that outstanding SharedBytes handles keep alive, in the
// whole process (every cache): how many and their bytes at the allocator's usable size. The
// cache's memory budget does not count them (docs/api-cache.md); this is where they show.
struct HeldByHandles {
    std::uint64_t values = 0;
    std::uint64_t bytes = 0;
};
HEAPWISE_API HeldByHandles held_by_handles() noexcept;

// The usable size an allocator gives a request of n bytes (0 for n == 0), as Bytes::usable_size
// would report it; the cache charges entries with it.
HEAPWISE_API std::size_t allocation_size(std::size_t n, Allocator allocator) noexcept;

}  // namespace heapwise
