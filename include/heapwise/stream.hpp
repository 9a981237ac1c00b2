// Streaming helpers with bounded memory: read_chunks(path, size) reads a file through one buffer
// of `size` bytes and keeps the file out of the page cache behind the read position;
// chunked(range, n) groups any input range (sized or not, single-pass or not) into batches of
// up to n elements. Reference: docs/api-monitor.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "heapwise/export.h"

namespace heapwise {

// A single-pass range of std::span<const std::byte>: every chunk is `size` bytes except the
// last. A span stays valid until the iterator is incremented. Read errors throw
// std::system_error from the increment.
class HEAPWISE_API ChunkReader : public std::ranges::view_interface<ChunkReader> {
public:
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = std::span<const std::byte>;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(ChunkReader* r) : r_(r) {}
        value_type operator*() const { return {r_->buf_.get(), r_->len_}; }
        iterator& operator++() {
            r_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        bool at_end() const { return !r_ || r_->len_ == 0; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

    private:
        ChunkReader* r_ = nullptr;
    };

    ChunkReader() = default;
    // Opens the file; throws std::invalid_argument for size 0, std::system_error when the file
    // cannot be opened or is a directory.
    ChunkReader(const std::filesystem::path& path, std::size_t size);
    ~ChunkReader();
    ChunkReader(ChunkReader&& o) noexcept;
    ChunkReader& operator=(ChunkReader&& o) noexcept;

    iterator begin();  // reads the first chunk (once: the range is single-pass)
    std::default_sentinel_t end() const noexcept { return {}; }

    std::uint64_t bytes_read() const noexcept { return offset_; }
    std::size_t buffer_size() const noexcept { return size_; }
    // Bytes the page cache was told to drop (POSIX_FADV_DONTNEED) so far.
    std::uint64_t bytes_dropped() const noexcept { return dropped_; }

private:
    void next();
    void close() noexcept;

    int fd_ = -1;
    std::unique_ptr<std::byte[]> buf_;
    std::size_t size_ = 0;
    std::size_t len_ = 0;
    std::uint64_t offset_ = 0;   // bytes read from the file
    std::uint64_t dropped_ = 0;  // advised away up to here
    bool started_ = false;
    std::string path_;
};

HEAPWISE_API ChunkReader read_chunks(const std::filesystem::path& path, std::size_t size);

// Batches of up to n elements of an input range, as const std::vector<T>&; the batch is reused,
// so copy it to keep it past the next increment.
template <std::ranges::input_range V>
    requires std::ranges::view<V>
class ChunkedView : public std::ranges::view_interface<ChunkedView<V>> {
    using T = std::ranges::range_value_t<V>;

public:
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = std::vector<T>;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(ChunkedView* v) : v_(v) {}
        const std::vector<T>& operator*() const { return v_->batch_; }
        iterator& operator++() {
            v_->fill();
            return *this;
        }
        void operator++(int) { ++*this; }
        bool at_end() const { return !v_ || v_->batch_.empty(); }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

    private:
        ChunkedView* v_ = nullptr;
    };

    ChunkedView(V base, std::size_t n) : base_(std::move(base)), n_(n) {
        if (n_ == 0) throw std::invalid_argument("heapwise::chunked: batch size must be at least 1");
    }
    iterator begin() {
        it_.emplace(std::ranges::begin(base_));
        fill();
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    void fill() {
        batch_.clear();
        auto& it = *it_;
        for (std::size_t i = 0; i < n_ && it != std::ranges::end(base_); ++i, ++it)
            batch_.emplace_back(*it);
    }

    V base_;
    std::size_t n_;
    std::optional<std::ranges::iterator_t<V>> it_;
    std::vector<T> batch_;
};

// chunked(items, 1000): throws std::invalid_argument for n == 0.
template <std::ranges::viewable_range R>
    requires std::ranges::input_range<R>
auto chunked(R&& range, std::size_t n) {
    return ChunkedView<std::views::all_t<R>>(std::views::all(std::forward<R>(range)), n);
}

}  // namespace heapwise
