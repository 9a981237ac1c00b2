// One cache entry: header, key and (up to kInlineMax bytes) value in one block. Guarded by the
// owning shard's lock, except what a lock-free hit reads (cache_read.cpp): everything it reads is
// written before the entry is published in the table and never changed after, but `state` and
// `last_use`, which both sides access atomically (atomic_ref). Nothing here locks or does I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "cache_memory.hpp"
#include "heapwise/bytes.hpp"

namespace heapwise::api {

enum class EntryState : std::uint8_t {
    memory,    // value in memory, on the LRU list
    spilling,  // value in memory, being written to disk by one thread (pinned: not freed)
    disk,      // value only in a spill file
};

// Values of at most kInlineMax bytes live in the entry's own block, right after the key: a hit
// then reads one block (header, key and value on adjacent cache lines, no pointer to chase) and
// a set makes one allocation. Larger values keep their own block, taken over without a copy.
inline constexpr std::size_t kInlineMax = 2048;

// Keys are shorter than 2 GiB, so an index charge (header, key, slot, spill index node at the
// allocator's size) fits Entry::index_charge's 32 bits.
inline constexpr std::size_t kMaxKey = (std::size_t{1} << 31) - 1;

// The cache's access to a Bytes buffer's ownership (a friend of Bytes).
struct BytesAccess {
    static std::byte* release(Bytes& b) noexcept {
        b.size_ = 0;
        return std::exchange(b.data_, nullptr);
    }
    // Bytes(data, a), inline for the hit path. Throws std::bad_alloc.
    static Bytes copy_of(std::span<const std::byte> data, Allocator a) {
        if (data.empty()) return BytesAccess::adopt(nullptr, 0, a);
        auto* p = static_cast<std::byte*>(mem_alloc(data.size(), a));
        if (p == nullptr) throw std::bad_alloc();
        std::memcpy(p, data.data(), data.size());
        return adopt(p, data.size(), a);
    }
    static Bytes adopt(std::byte* p, std::size_t n, Allocator a) noexcept {
        Bytes b;
        b.data_ = p;
        b.size_ = n;
        b.allocator_ = a;
        return b;
    }
};

// Atomic access to a plain field shared with lock-free readers.
template <class T>
T load_shared(const T& x, std::memory_order order = std::memory_order_relaxed) noexcept {
    return std::atomic_ref<T>(const_cast<T&>(x)).load(order);
}
template <class T>
void store_shared(T& x, T v, std::memory_order order = std::memory_order_relaxed) noexcept {
    std::atomic_ref<T>(x).store(v, order);
}

// Links of a doubly linked LRU list (cache_lru.hpp); a bucket's sentinel is a bare LruLink.
struct LruLink {
    LruLink* prev = nullptr;
    LruLink* next = nullptr;
};

// Where a disk entry's value is: its spill file.
struct DiskRef {
    std::uint64_t seq;   // spill file id
    std::uint64_t size;  // spill file bytes
};

// One block: this header (88 bytes), the key bytes, then (inline values) the value bytes. The
// fields a lookup reads come last, right before the key, so a hit reads one contiguous run
// (those fields, key, value: 48 + key + value bytes); LRU links and spill bookkeeping come first.
// The reference count fills what was padding, so a handle costs no header byte.
// A 35-byte key and a 128-byte value take 251 bytes: mimalloc's 256-byte class.
struct Entry {
    // An entry is on the LRU list (state memory) or has a spill file (state disk), never both;
    // a spilling entry is off the list and its file is not known yet. link comes first, so a
    // link converts to its entry.
    union {
        LruLink link{};
        DiskRef disk;
    };
    std::uint64_t hash = 0;
    std::uint64_t list_stamp = 0;  // the recency it is filed under in the LRU buckets
    std::size_t value_charge = 0;  // the rest of the entry's charge while the value is in memory

    const std::byte* data = nullptr;  // the value (inline or its own block); nullptr on disk
    std::size_t value_size = 0;       // the value's length in every state
    std::int64_t deadline_ns = 0;     // 0 = no expiry; cache clock nanoseconds
    std::uint64_t last_use = 0;       // epoch at the last use; > list_stamp: used since placed
    std::uint32_t key_len = 0;       // at most kMaxKey
    std::uint32_t index_charge = 0;  // what stays charged once the value is gone (block, slot)
    // References: one for the cache from creation until collect() frees what it retired (or the
    // cache is destroyed), one per SharedBytes handle (cache_shared.hpp). The block is freed
    // when the last goes. Atomic on every side (atomic_ref).
    std::uint32_t refs = 1;
    EntryState state = EntryState::memory;
    bool orphaned : 1 = false;  // removed from the table while spilling; the spiller frees it
    bool external : 1 = false;  // data is a block of its own (allocated with value_alloc)
    Allocator block_alloc = Allocator::mimalloc;
    Allocator value_alloc = Allocator::mimalloc;

    std::string_view key() const noexcept {
        return {reinterpret_cast<const char*>(this + 1), key_len};
    }
    std::span<const std::byte> value() const noexcept { return {data, value_size}; }
    std::size_t charge() const noexcept { return index_charge + value_charge; }

    static std::size_t block_size(std::size_t key_len, std::size_t inline_len = 0) noexcept {
        return sizeof(Entry) + key_len + inline_len;
    }
    static bool fits_inline(std::size_t value_len) noexcept { return value_len <= kInlineMax; }

    // A block for key (and an inline copy of `inline_value`). Throws std::bad_alloc.
    static Entry* create(std::string_view key, std::uint64_t hash, Allocator alloc,
                         std::span<const std::byte> inline_value = {}) {
        void* p = mem_alloc(block_size(key.size(), inline_value.size()), alloc);
        if (p == nullptr) throw std::bad_alloc();
        auto* e = new (p) Entry();
        e->hash = hash;
        e->block_alloc = alloc;
        e->key_len = static_cast<std::uint32_t>(key.size());
        auto* k = reinterpret_cast<std::byte*>(e + 1);
        if (!key.empty()) std::memcpy(k, key.data(), key.size());
        if (!inline_value.empty()) {
            std::memcpy(k + key.size(), inline_value.data(), inline_value.size());
            e->data = k + key.size();
        }
        e->value_size = inline_value.size();
        return e;
    }
    // Takes over `value`'s buffer (no copy).
    void adopt_value(Bytes&& value) noexcept {
        value_size = value.size();
        value_alloc = value.allocator();
        data = BytesAccess::release(value);
        external = data != nullptr;
    }
    // The use stamp, written by lock-free hits: read and written atomically on every side.
    std::uint64_t use() const noexcept { return load_shared(last_use); }
    void set_use(std::uint64_t v) noexcept { store_shared(last_use, v); }
    // Lowers the use stamp from `seen` unless a hit changed it meanwhile (that use stays).
    void settle_use(std::uint64_t seen, std::uint64_t to) noexcept {
        std::atomic_ref<std::uint64_t>(last_use).compare_exchange_strong(
            seen, to, std::memory_order_relaxed);
    }
    EntryState state_now() const noexcept { return load_shared(state); }
    std::size_t block_usable() const noexcept { return mem_usable(this, block_alloc); }
    static void destroy(Entry* e) noexcept {
        if (e->external) mem_free(const_cast<std::byte*>(e->data), e->value_alloc);
        const Allocator a = e->block_alloc;
        e->~Entry();
        mem_free(e, a);
    }
};

static_assert(sizeof(Entry) == 88, "docs/api-cache.md quotes the header size");

}  // namespace heapwise::api
