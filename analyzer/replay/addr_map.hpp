// The replay's flat tables, its hot path (never allocate per event). AddrMap: address -> any value
// (the live blocks themselves are in block_table.hpp, which keeps its rare oversized ones here),
// open addressing with linear probing and backward-shift deletion (no tombstones,
// so a long churn of allocs and frees never degrades probing); address 0 is kept beside the table
// because 0 marks an empty slot; memory follows the most blocks live at once (grows at 1/2 load).
// DenseTable: small dense ids (stacks, threads) -> value in a vector, with a map for ids far
// beyond the dense range so a corrupt id cannot make it allocate gigabytes. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace heapwise::analyzer {

template <class Value>
class AddrMap {
public:
    std::size_t size() const noexcept { return size_ + (has_zero_ ? 1 : 0); }

    Value* find(std::uint64_t key) noexcept {
        return const_cast<Value*>(static_cast<const AddrMap&>(*this).find(key));
    }
    const Value* find(std::uint64_t key) const noexcept {
        if (key == 0) return has_zero_ ? &zero_ : nullptr;
        if (slots_.empty()) return nullptr;
        for (std::size_t i = home(key);; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.key == key) return &s.value;
            if (s.key == 0) return nullptr;
        }
    }

    // Inserts (key, value) unless key is present; returns the value slot and whether it was new.
    std::pair<Value*, bool> try_emplace(std::uint64_t key, const Value& value) {
        if (key == 0) {
            if (has_zero_) return {&zero_, false};
            has_zero_ = true;
            zero_ = value;
            return {&zero_, true};
        }
        if ((size_ + 1) * 2 > slots_.size()) grow();
        for (std::size_t i = home(key);; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.key == key) return {&s.value, false};
            if (s.key == 0) {
                s.key = key;
                s.value = value;
                ++size_;
                return {&s.value, true};
            }
        }
    }

    // Removes key if present, moving later entries of its probe run back so lookups stay exact.
    bool erase(std::uint64_t key) noexcept {
        Value ignored;
        return take(key, ignored);
    }

    // erase() that hands the removed value out: one probe where find() then erase() take two.
    bool take(std::uint64_t key, Value& out) noexcept {
        if (key == 0) [[unlikely]] {
            if (!has_zero_) return false;
            out = zero_;
            has_zero_ = false;
            return true;
        }
        if (slots_.empty()) return false;
        std::size_t i = home(key);
        while (slots_[i].key != key) {
            if (slots_[i].key == 0) return false;
            i = (i + 1) & mask_;
        }
        out = slots_[i].value;
        remove_at(i);
        return true;
    }

private:
    struct Slot {
        std::uint64_t key = 0;  // 0: empty
        Value value{};
    };

    // Backward-shift deletion of the entry at i.
    void remove_at(std::size_t i) noexcept {
        for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            Slot& s = slots_[j];
            if (s.key == 0) break;
            // s may fill the hole at i only if its home does not lie cyclically in (i, j].
            const std::size_t h = home(s.key);
            const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!stays) {
                slots_[i] = s;
                i = j;
            }
        }
        slots_[i].key = 0;
        --size_;
    }

    std::size_t home(std::uint64_t key) const noexcept {
        // Fibonacci hashing: heap addresses share their low bits (alignment), so mix them up.
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        const std::size_t capacity = old.empty() ? 64 : old.size() * 2;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(capacity));
        size_ = 0;
        for (const Slot& s : old) {
            if (s.key == 0) continue;
            for (std::size_t i = home(s.key);; i = (i + 1) & mask_) {
                if (slots_[i].key == 0) {
                    slots_[i] = s;
                    ++size_;
                    break;
                }
            }
        }
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    unsigned shift_ = 64;
    std::size_t size_ = 0;
    bool has_zero_ = false;
    Value zero_{};
};

// Id -> Value, created on first get(). Ids up to about twice the dense range seen so far (plus
// kSlack) live in the vector, others in a map: memory stays bounded by the ids actually used.
template <class Id, class Value>
class DenseTable {
public:
    Value* find(Id id) noexcept {
        const auto i = static_cast<std::size_t>(id);
        if (i < dense_.size()) return &dense_[i];
        if (sparse_.empty()) return nullptr;
        const auto it = sparse_.find(i);
        return it == sparse_.end() ? nullptr : &it->second;
    }

    Value& get(Id id) {
        const auto i = static_cast<std::size_t>(id);
        if (i < dense_.size()) [[likely]] return dense_[i];
        return get_new(i);
    }

    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < dense_.size(); ++i) f(static_cast<Id>(i), dense_[i]);
        for (const auto& [i, v] : sparse_) f(static_cast<Id>(i), v);
    }

private:
    static constexpr std::size_t kSlack = 1024;

    // Out of line: the hot callers inline only the dense lookup above.
    [[gnu::noinline]] Value& get_new(std::size_t i) {
        if (i > dense_.size() * 2 + kSlack) return sparse_[i];
        dense_.resize(i + 1);
        for (auto it = sparse_.begin(); it != sparse_.end();) {  // ids the dense range now covers
            if (it->first < dense_.size()) {
                dense_[it->first] = std::move(it->second);
                it = sparse_.erase(it);
            } else {
                ++it;
            }
        }
        return dense_[i];
    }

    std::vector<Value> dense_;
    std::unordered_map<std::size_t, Value> sparse_;
};

}  // namespace heapwise::analyzer
