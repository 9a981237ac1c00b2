// EntryTable: a shard's open-addressing table (linear probing, backward-shift deletion) keyed by
// the 64-bit hash. Writers hold the shard's lock. find_concurrent runs without it, inside a
// reclaim::ReadSection: slots are written with atomic stores (the entry pointer last, release),
// a replaced slot array is retired rather than freed, and a version, odd while an erase shifts
// slots, tells a reader whether a miss it saw is definitive. Never does I/O.
#pragma once

#include <emmintrin.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "cache_entry.hpp"
#include "cache_reclaim.hpp"

namespace heapwise::api {

class EntryTable {
public:
    // What one entry costs the table, at the worst load factor (1/2) it allows.
    static constexpr std::size_t kSlotCharge = 2 * sizeof(std::pair<std::uint64_t, Entry*>);

    EntryTable() = default;
    EntryTable(const EntryTable&) = delete;
    EntryTable& operator=(const EntryTable&) = delete;
    ~EntryTable() {
        free_array(slots_);
        collect(~std::uint64_t{0});
    }

    std::size_t size() const noexcept { return size_; }

    // Writers (shard lock held).
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

    // Readers without the lock (inside a reclaim::ReadSection): the entry for key, or nullptr.
    // A concurrent erase may hide a present key for a moment: see version()/unchanged_since().
    [[gnu::always_inline]] Entry* find_concurrent(std::uint64_t hash,
                                                  std::string_view key) const noexcept {
        const Slot* slots = load_shared(slots_, std::memory_order_acquire);
        if (slots == nullptr) return nullptr;
        const std::size_t mask = slots[-1].hash;  // set before the array was published
        for (std::size_t i = hash & mask, n = 0; n <= mask; i = (i + 1) & mask, ++n) {
            Entry* e = load_shared(slots[i].entry, std::memory_order_acquire);
            if (e == nullptr) return nullptr;
            // A torn slot (hash and entry from two writes) is harmless: the key decides. Every
            // load here is acquire, so unchanged_since()'s version load cannot pass them.
            if (load_shared(slots[i].hash, std::memory_order_acquire) == hash &&
                e->key_len == key.size() &&
                same_key(reinterpret_cast<const char*>(e + 1), key.data(), key.size())) {
                return e;
            }
        }
        return nullptr;
    }
    // Key bytes equal, inline for keys up to 64 bytes (16-byte SSE2 compares, the last one
    // overlapping): a memcmp call costs ~30 instructions with the registers saved around it.
    static bool same_key(const char* a, const char* b, std::size_t n) noexcept {
        if (n < 16 || n > 64) return n == 0 || std::memcmp(a, b, n) == 0;
        auto diff16 = [](const char* x, const char* y) {
            const __m128i d = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(y)));
            return d;
        };
        __m128i acc = diff16(a + n - 16, b + n - 16);
        for (std::size_t i = 0; i + 16 < n; i += 16) acc = _mm_or_si128(acc, diff16(a + i, b + i));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) == 0xffff;
    }
    std::uint32_t version() const noexcept { return version_.load(std::memory_order_acquire); }
    // True if no erase ran since version() returned v: a miss seen in between is definitive.
    bool unchanged_since(std::uint32_t v) const noexcept {
        return (v & 1) == 0 && version_.load(std::memory_order_relaxed) == v;
    }

    void insert(Entry* e) {  // the key must be absent
        if ((size_ + 1) * 2 > capacity()) grow();
        place(slots_, mask_, e);
        ++size_;
    }
    void erase(Entry* e) noexcept {
        // Odd while slots move. An acquire RMW keeps the slot stores after it (a fence would
        // do the same, but TSan does not model fences).
        const std::uint32_t v = version_.fetch_add(1, std::memory_order_acquire);
        std::size_t i = e->hash & mask_;
        while (slots_[i].entry != e) i = (i + 1) & mask_;
        // Backward shift: move later members of the probe run into the hole.
        for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            if (slots_[j].entry == nullptr) break;
            std::size_t home = slots_[j].hash & mask_;
            bool movable = ((j - home) & mask_) >= ((j - i) & mask_);
            if (movable) {
                set_slot(slots_[i], slots_[j].hash, slots_[j].entry);
                i = j;
            }
        }
        set_slot(slots_[i], 0, nullptr);
        --size_;
        version_.store(v + 2, std::memory_order_release);
    }
    // Puts `to` in the slot of `from` (same key and hash).
    void replace(Entry* from, Entry* to) noexcept {
        std::size_t i = from->hash & mask_;
        while (slots_[i].entry != from) i = (i + 1) & mask_;
        store_shared(slots_[i].entry, to, std::memory_order_release);
    }
    template <class F>
    void for_each(F f) const {
        for (std::size_t i = 0; i < capacity(); ++i) {
            if (slots_[i].entry != nullptr) f(slots_[i].entry);
        }
    }
    // Empties the table; readers may still be probing the old array, so it is retired.
    void reset() noexcept {
        Slot* old = slots_;
        store_shared(slots_, static_cast<Slot*>(nullptr), std::memory_order_release);
        retire(old);
        mask_ = 0;
        size_ = 0;
    }
    // Frees the retired arrays tagged below `safe` (reclaim::safe_before()).
    void collect(std::uint64_t safe) noexcept {
        Slot** p = &retired_;
        while (*p != nullptr) {
            Slot* a = *p;
            Slot* next = reinterpret_cast<Slot*>(a[-2].entry);
            if (a[-2].hash < safe) {
                *p = next;
                free_array(a);
            } else {
                p = reinterpret_cast<Slot**>(&a[-2].entry);
            }
        }
    }
    bool has_retired() const noexcept { return retired_ != nullptr; }

private:
    struct Slot {
        std::uint64_t hash = 0;
        Entry* entry = nullptr;
    };
    // Arrays carry two header slots: [-1].hash is the mask (readers' view of the capacity),
    // [-2] the retire tag and the next retired array.
    static Slot* new_array(std::size_t cap) {
        Slot* a = new Slot[cap + 2]() + 2;
        a[-1].hash = cap - 1;
        return a;
    }
    static void free_array(Slot* a) noexcept {
        if (a != nullptr) delete[] (a - 2);
    }
    // After the array was unpublished: the tag is taken once no new reader can reach it.
    void retire(Slot* a) noexcept {
        if (a == nullptr) return;
        a[-2].hash = reclaim::retire_epoch();
        a[-2].entry = reinterpret_cast<Entry*>(retired_);
        retired_ = a;
    }
    static void set_slot(Slot& s, std::uint64_t hash, Entry* e) noexcept {
        store_shared(s.hash, hash);
        store_shared(s.entry, e, std::memory_order_release);
    }
    std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }
    static void place(Slot* slots, std::size_t mask, Entry* e) noexcept {
        std::size_t i = e->hash & mask;
        while (slots[i].entry != nullptr) i = (i + 1) & mask;
        set_slot(slots[i], e->hash, e);
    }
    void grow() {
        std::size_t cap = capacity() == 0 ? 16 : capacity() * 2;
        Slot* fresh = new_array(cap);
        for (std::size_t i = 0; i < capacity(); ++i) {
            if (slots_[i].entry != nullptr) place(fresh, cap - 1, slots_[i].entry);
        }
        Slot* old = slots_;
        store_shared(slots_, fresh, std::memory_order_release);
        mask_ = static_cast<std::uint32_t>(cap - 1);
        retire(old);
    }

    // With the shard's lock and hit/miss counters these fill one cache line.
    Slot* slots_ = nullptr;
    std::uint32_t mask_ = 0;
    std::uint32_t size_ = 0;
    std::atomic<std::uint32_t> version_{0};
    Slot* retired_ = nullptr;  // arrays readers may still probe
};

}  // namespace heapwise::api
