// heapwise::Bytes: buffers from mimalloc (the default, so freed values go back to the OS
// promptly) or from the system allocator (kept for side-by-side comparisons).
#include <cstring>
#include <new>

#include "cache_memory.hpp"
#include "heapwise/bytes.hpp"

namespace heapwise {
namespace {

std::byte* allocate(std::size_t n, Allocator allocator) {
    void* p = api::mem_alloc(n, allocator);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<std::byte*>(p);
}

}  // namespace

Bytes::Bytes(std::span<const std::byte> data, Allocator allocator) : allocator_(allocator) {
    if (data.empty()) return;
    data_ = allocate(data.size(), allocator);
    size_ = data.size();
    std::memcpy(data_, data.data(), size_);
}

Bytes::Bytes(std::string_view data, Allocator allocator)
    : Bytes(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()),
                                       data.size()),
            allocator) {}

Bytes Bytes::uninitialized(std::size_t n, Allocator allocator) {
    Bytes b;
    b.allocator_ = allocator;
    if (n == 0) return b;
    b.data_ = allocate(n, allocator);
    b.size_ = n;
    return b;
}

Bytes::Bytes(const Bytes& other) : Bytes(other.span(), other.allocator_) {}

Bytes& Bytes::operator=(const Bytes& other) {
    if (this != &other) *this = Bytes(other);
    return *this;
}

std::size_t Bytes::usable_size() const noexcept {
    if (data_ == nullptr) return 0;
    return api::mem_usable(data_, allocator_);
}

void Bytes::free_buffer() noexcept {
    api::mem_free(data_, allocator_);
    data_ = nullptr;
    size_ = 0;
}

std::size_t allocation_size(std::size_t n, Allocator allocator) noexcept {
    if (n == 0) return 0;
    if (api::use_mimalloc(allocator)) return mi_good_size(n);
    // glibc: chunks are 16-byte aligned with an 8-byte header, at least 24 usable bytes; large
    // requests are mmapped in whole pages. Measured rather than assumed: ask the allocator.
    void* p = std::malloc(n);
    if (p == nullptr) return n;
    std::size_t s = malloc_usable_size(p);
    std::free(p);
    return s;
}

}  // namespace heapwise
