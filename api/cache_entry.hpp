// One cache entry and the per-shard table that finds it: an open-addressing table (linear
// probing, backward-shift deletion) keyed by the 64-bit hash.
// Everything here is guarded by the owning shard's lock; nothing here locks or does I/O.
#pragma once

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
    EntryState state = EntryState::memory;
    bool orphaned = false;  // removed from the table while spilling; the spiller frees it
    bool external = false;  // data is a block of its own (allocated with value_alloc)
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
    // Gives up an external value's buffer (to free it after the lock); inline values stay.
    Bytes take_external() noexcept {
        if (!external) return {};
        external = false;
        return BytesAccess::adopt(const_cast<std::byte*>(std::exchange(data, nullptr)),
                                  value_size, value_alloc);
    }
    std::size_t block_usable() const noexcept { return mem_usable(this, block_alloc); }
    static void destroy(Entry* e) noexcept {
        if (e->external) mem_free(const_cast<std::byte*>(e->data), e->value_alloc);
        const Allocator a = e->block_alloc;
        e->~Entry();
        mem_free(e, a);
    }
};

static_assert(sizeof(Entry) == 88, "docs/api-cache.md quotes the header size");

class EntryTable {
public:
    // What one entry costs the table, at the worst load factor (1/2) it allows.
    static constexpr std::size_t kSlotCharge = 2 * sizeof(std::pair<std::uint64_t, Entry*>);

    EntryTable() = default;
    EntryTable(const EntryTable&) = delete;
    EntryTable& operator=(const EntryTable&) = delete;
    ~EntryTable() { delete[] slots_; }

    std::size_t size() const noexcept { return size_; }

    Entry* find(std::uint64_t hash, std::string_view key) const noexcept {
        return find_if(hash, [&](const Entry* e) { return e->key() == key; });
    }
    template <class Pred>
    Entry* find_if(std::uint64_t hash, Pred pred) const noexcept {
        if (size_ == 0) return nullptr;
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.entry == nullptr) return nullptr;
            if (s.hash == hash && pred(s.entry)) return s.entry;
        }
    }
    void insert(Entry* e) {  // the key must be absent
        if ((size_ + 1) * 2 > capacity()) grow();
        place(slots_, mask_, e);
        ++size_;
    }
    void erase(Entry* e) noexcept {
        std::size_t i = e->hash & mask_;
        while (slots_[i].entry != e) i = (i + 1) & mask_;
        // Backward shift: move later members of the probe run into the hole.
        for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            if (slots_[j].entry == nullptr) break;
            std::size_t home = slots_[j].hash & mask_;
            bool movable = ((j - home) & mask_) >= ((j - i) & mask_);
            if (movable) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = Slot{};
        --size_;
    }
    // Puts `to` in the slot of `from` (same key and hash).
    void replace(Entry* from, Entry* to) noexcept {
        std::size_t i = from->hash & mask_;
        while (slots_[i].entry != from) i = (i + 1) & mask_;
        slots_[i].entry = to;
    }
    template <class F>
    void for_each(F f) const {
        for (std::size_t i = 0; i < capacity(); ++i) {
            if (slots_[i].entry != nullptr) f(slots_[i].entry);
        }
    }
    void reset() noexcept {
        delete[] slots_;
        slots_ = nullptr;
        mask_ = 0;
        size_ = 0;
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        Entry* entry = nullptr;
    };
    std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }
    static void place(Slot* slots, std::size_t mask, Entry* e) noexcept {
        std::size_t i = e->hash & mask;
        while (slots[i].entry != nullptr) i = (i + 1) & mask;
        slots[i] = Slot{e->hash, e};
    }
    void grow() {
        std::size_t cap = capacity() == 0 ? 16 : capacity() * 2;
        auto* fresh = new Slot[cap]();
        for (std::size_t i = 0; i < capacity(); ++i) {
            if (slots_[i].entry != nullptr) place(fresh, cap - 1, slots_[i].entry);
        }
        delete[] slots_;
        slots_ = fresh;
        mask_ = static_cast<std::uint32_t>(cap - 1);
    }

    // 16 bytes of fields: with the shard's mutex and hit counter they fill one cache line.
    Slot* slots_ = nullptr;
    std::uint32_t mask_ = 0;
    std::uint32_t size_ = 0;
};

}  // namespace heapwise::api
