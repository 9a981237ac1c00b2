// The live blocks of a replay: address -> (size, stack) in 16-byte slots, the replay's hottest
// structure (one probe per heap event). Buckets of four slots, one cache line each: a lookup
// compares the four addresses of the home bucket without a branch per slot and goes on to the next
// bucket only when an insert once overflowed this one (a count per bucket, as folly's F14), so a
// long churn of allocs and frees needs no tombstones and no shifting. Grown at 1/2 load. A slot
// holds the address and the size (40 bits) packed with the stack id (24 bits); a block whose size
// or stack id does not fit keeps a marker in its slot and its real value in a side AddrMap, so every
// size and stack id replays exactly. Address 0 is kept beside the table (0 marks an empty slot).
// Never allocates except when the table grows. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "analyzer/events.hpp"
#include "analyzer/replay/addr_map.hpp"

namespace heapwise::analyzer {

struct LiveBlock {
    std::uint64_t size = 0;
    StackId stack{};
    friend bool operator==(const LiveBlock&, const LiveBlock&) = default;
};

class BlockTable {
public:
    static constexpr unsigned kSizeBits = 40;
    static constexpr std::uint64_t kSizeMask = (std::uint64_t{1} << kSizeBits) - 1;
    static constexpr std::uint64_t kMaxInlineStack = (std::uint64_t{1} << (64 - kSizeBits)) - 1;
    static constexpr std::size_t kBucketSlots = 4;

    BlockTable() = default;
    BlockTable(const BlockTable& other) { *this = other; }
    BlockTable& operator=(const BlockTable& other);
    BlockTable(BlockTable&&) noexcept = default;
    BlockTable& operator=(BlockTable&&) noexcept = default;

    std::size_t size() const noexcept { return size_ + (has_zero_ ? 1 : 0); }
    std::size_t capacity() const noexcept { return buckets_ * kBucketSlots; }  // slots, 16 B each
    std::size_t overflowed() const noexcept { return overflow_.size(); }  // blocks in the side map

    // A hint: addr's home bucket, into the cache ahead of use.
    // Unconditional (GCC 12 drops a __builtin_prefetch under an `if`): an empty table has mask_ 0,
    // so this touches nothing but the null base, and a prefetch never faults.
    void prefetch(std::uint64_t addr) const noexcept {
        const std::size_t b = home(addr) & mask_;
        __builtin_prefetch(reinterpret_cast<const char*>(table_.get()) + b * sizeof(Bucket), 1, 3);
    }

    // Sets addr's block. True when addr was already live: its old block is put in *old.
    bool put(std::uint64_t addr, LiveBlock block, LiveBlock& old) {
        if (addr == 0) [[unlikely]] {
            const bool had = has_zero_;
            old = zero_;
            zero_ = block;
            has_zero_ = true;
            return had;
        }
        if ((size_ + 1) * 2 > buckets_ * kBucketSlots) [[unlikely]] grow();
        const std::size_t b = home(addr);
        Bucket& h = table_[b];
        const unsigned m = match(h, addr);
        if (m != 0) [[unlikely]] {
            replace(h, slot_of(m), block, old);
            return true;
        }
        const unsigned e = empty(h);
        if (hops_[b] == 0 && e != 0) [[likely]] {  // absent: nothing ever went past this bucket
            fill(h, slot_of(e), addr, block);
            return false;
        }
        return put_far(b, addr, block, old);
    }

    // The common cases of put() and take() alone, for a replay's batches: one probe of addr's
    // home bucket. Anything else returns false and changes nothing, and the caller goes on to
    // put() or take(): address 0, growth due, and for try_put an address live already, a home
    // bucket full or once overflowed, a block that does not fit a slot; for try_take an address
    // not in its home bucket or a block in the side map.
    bool try_put(std::uint64_t addr, LiveBlock block) noexcept {
        if ((addr == 0) | ((size_ + 1) * 2 > buckets_ * kBucketSlots) | !fits(block)) [[unlikely]] return false;
        const std::size_t b = home(addr);
        Bucket& h = table_[b];
        const unsigned e = empty(h);
        const bool live = match(h, addr) != 0;  // apart: clang reads `|` on a call as a slip for `||`
        if (live | (e == 0) | (hops_[b] != 0)) [[unlikely]] return false;
        const unsigned k = slot_of(e);
        h.key[k] = addr;
        h.packed[k] = pack(block);
        ++size_;
        return true;
    }
    bool try_take(std::uint64_t addr, LiveBlock& out) noexcept {
        if ((addr == 0) | (buckets_ == 0)) [[unlikely]] return false;
        Bucket& h = table_[home(addr)];
        const unsigned m = match(h, addr);
        if (m == 0) [[unlikely]] return false;
        const unsigned k = slot_of(m);
        const std::uint64_t packed = h.packed[k];
        if (packed == kOverflow) [[unlikely]] return false;
        h.key[k] = 0;
        --size_;
        out = unpack(packed);
        return true;
    }

    // Adds addr's block unless addr is live. True when it was added.
    bool add(std::uint64_t addr, LiveBlock block) {
        if (find(addr)) return false;
        LiveBlock ignored;
        put(addr, block, ignored);
        return true;
    }

    bool find(std::uint64_t addr) const noexcept {
        if (addr == 0) return has_zero_;
        if (buckets_ == 0) return false;
        std::size_t b = home(addr);
        if (match(table_[b], addr) != 0) return true;
        return far(b, addr) != kNone;
    }

    // Removes addr if live and hands its block out: one bucket read in the common case.
    bool take(std::uint64_t addr, LiveBlock& out) noexcept {
        if (addr == 0) [[unlikely]] {
            if (!has_zero_) return false;
            out = zero_;
            has_zero_ = false;
            return true;
        }
        if (buckets_ == 0) [[unlikely]] return false;
        const std::size_t b = home(addr);
        Bucket& h = table_[b];
        const unsigned m = match(h, addr);
        if (m == 0) [[unlikely]] return take_far(b, addr, out);
        remove(h, slot_of(m), out);
        return true;
    }

    // f(addr, const LiveBlock&) for every live block, in no particular order.
    template <class F>
    void for_each(F&& f) const {
        if (has_zero_) f(std::uint64_t{0}, zero_);
        for (std::size_t b = 0; b < buckets_; ++b) {
            for (std::size_t k = 0; k < kBucketSlots; ++k) {
                const Bucket& h = table_[b];
                if (h.key[k] != 0) f(h.key[k], value_of(h.key[k], h.packed[k]));
            }
        }
    }

private:
    struct alignas(64) Bucket {
        std::uint64_t key[kBucketSlots];     // 0: empty
        std::uint64_t packed[kBucketSlots];  // size | stack << kSizeBits, or kOverflow
    };
    // No fitting block packs to this: its size field would be kSizeMask, which fits() refuses.
    static constexpr std::uint64_t kOverflow = ~std::uint64_t{0};
    static constexpr std::uint8_t kStuck = 255;  // a count that saturated stays until a rehash

    static bool fits(const LiveBlock& b) noexcept {
        return (b.size < kSizeMask) & (static_cast<std::uint64_t>(b.stack) <= kMaxInlineStack);
    }
    static std::uint64_t pack(const LiveBlock& b) noexcept {  // fits(b) only
        return b.size | static_cast<std::uint64_t>(b.stack) << kSizeBits;
    }
    static LiveBlock unpack(std::uint64_t packed) noexcept {
        return {packed & kSizeMask, StackId{static_cast<std::uint32_t>(packed >> kSizeBits)}};
    }
    // A mask with bit 4k set when slot k holds key (slot_of() reads it back), without a branch:
    // SSE2 (every x86-64) compares the four keys' 32-bit halves at once; a slot matches when both
    // its halves do (bits 4k and 4k+2 of the byte mask of the halves packed to 16 bits).
    static unsigned match(const Bucket& h, std::uint64_t key) noexcept {
#if defined(__SSE2__)
        const __m128i k = _mm_set1_epi64x(static_cast<long long>(key));
        const __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(h.key)), k);
        const __m128i hi = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(h.key + 2)), k);
        const auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi32(lo, hi)));
        return bits & (bits >> 2) & 0x1111u;
#else
        return static_cast<unsigned>(h.key[0] == key) | static_cast<unsigned>(h.key[1] == key) << 4 |
               static_cast<unsigned>(h.key[2] == key) << 8 | static_cast<unsigned>(h.key[3] == key) << 12;
#endif
    }
    static unsigned slot_of(unsigned mask) noexcept { return static_cast<unsigned>(__builtin_ctz(mask)) / 4; }
    static unsigned empty(const Bucket& h) noexcept { return match(h, 0); }

    LiveBlock value_of(std::uint64_t key, std::uint64_t packed) const noexcept {
        if (packed != kOverflow) return unpack(packed);
        const LiveBlock* b = overflow_.find(key);
        return b != nullptr ? *b : LiveBlock{};  // always found: the side map follows the slots
    }
    void store(Bucket& h, unsigned k, const LiveBlock& b) {
        if (fits(b)) [[likely]] {
            h.packed[k] = pack(b);
        } else {
            h.packed[k] = kOverflow;
            *overflow_.try_emplace(h.key[k], b).first = b;
        }
    }
    void fill(Bucket& h, unsigned k, std::uint64_t addr, const LiveBlock& b) {
        h.key[k] = addr;
        store(h, k, b);
        ++size_;
    }
    void replace(Bucket& h, unsigned k, const LiveBlock& b, LiveBlock& old) {
        old = value_of(h.key[k], h.packed[k]);
        if (h.packed[k] == kOverflow) overflow_.erase(h.key[k]);
        store(h, k, b);
    }
    void remove(Bucket& h, unsigned k, LiveBlock& out) noexcept {
        if (h.packed[k] == kOverflow) [[unlikely]] {
            overflow_.take(h.key[k], out);
        } else {
            out = unpack(h.packed[k]);
        }
        h.key[k] = 0;
        --size_;
    }

    // The rare paths: addr is past its home bucket, or the home bucket is full.
    // The bucket past b holding addr (home bucket b, already searched), or kNone. At most one lap:
    // counts that were stuck, or deletions, may leave every bucket's count above 0.
    static constexpr std::size_t kNone = ~std::size_t{0};
    std::size_t far(std::size_t b, std::uint64_t addr) const noexcept {
        for (std::size_t i = b, laps = 0; hops_[i] != 0 && ++laps < buckets_;) {
            i = (i + 1) & mask_;
            if (match(table_[i], addr) != 0) return i;
        }
        return kNone;
    }
    [[gnu::noinline]] bool put_far(std::size_t b, std::uint64_t addr, const LiveBlock& block,
                                   LiveBlock& old) {
        if (const std::size_t i = far(b, addr); i != kNone) {
            replace(table_[i], slot_of(match(table_[i], addr)), block, old);
            return true;
        }
        for (std::size_t i = b;; i = (i + 1) & mask_) {
            if (const unsigned e = empty(table_[i]); e != 0) {
                fill(table_[i], slot_of(e), addr, block);
                return false;
            }
            if (hops_[i] != kStuck) ++hops_[i];  // one more key lives past bucket i
        }
    }
    [[gnu::noinline]] bool take_far(std::size_t b, std::uint64_t addr, LiveBlock& out) noexcept {
        const std::size_t i = far(b, addr);
        if (i == kNone) return false;
        remove(table_[i], slot_of(match(table_[i], addr)), out);
        for (std::size_t j = b; j != i; j = (j + 1) & mask_) {
            if (hops_[j] != kStuck) --hops_[j];
        }
        return true;
    }

    std::size_t home(std::uint64_t key) const noexcept {
        // Fibonacci hashing: heap addresses share their low bits (alignment), so mix them up.
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    }

    [[gnu::noinline]] void grow() {
        const std::size_t old_buckets = buckets_;
        std::unique_ptr<Bucket[]> old = std::move(table_);
        buckets_ = old_buckets == 0 ? 16 : old_buckets * 2;
        table_.reset(new Bucket[buckets_]());
        hops_.reset(new std::uint8_t[buckets_]());
        mask_ = buckets_ - 1;
        shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(buckets_));
        for (std::size_t i = 0; i < old_buckets; ++i) {
            for (std::size_t k = 0; k < kBucketSlots; ++k) {
                if (old[i].key[k] == 0) continue;
                for (std::size_t b = home(old[i].key[k]);; b = (b + 1) & mask_) {
                    if (const unsigned e = empty(table_[b]); e != 0) {
                        const unsigned slot = slot_of(e);
                        table_[b].key[slot] = old[i].key[k];
                        table_[b].packed[slot] = old[i].packed[k];
                        break;
                    }
                    if (hops_[b] != kStuck) ++hops_[b];
                }
            }
        }
    }

    std::unique_ptr<Bucket[]> table_;
    std::unique_ptr<std::uint8_t[]> hops_;  // per bucket: keys living past it (their home is before)
    std::size_t buckets_ = 0;
    std::size_t mask_ = 0;
    unsigned shift_ = 63;  // any shift below 64 while the table is empty (only prefetch uses it)
    std::size_t size_ = 0;  // in table_ (address 0 apart)
    bool has_zero_ = false;
    LiveBlock zero_{};
    AddrMap<LiveBlock> overflow_;  // the blocks of kOverflow slots
};

inline BlockTable& BlockTable::operator=(const BlockTable& other) {
    if (this == &other) return *this;
    table_.reset(other.buckets_ != 0 ? new Bucket[other.buckets_] : nullptr);
    hops_.reset(other.buckets_ != 0 ? new std::uint8_t[other.buckets_] : nullptr);
    for (std::size_t i = 0; i < other.buckets_; ++i) {
        table_[i] = other.table_[i];
        hops_[i] = other.hops_[i];
    }
    buckets_ = other.buckets_;
    mask_ = other.mask_;
    shift_ = other.shift_;
    size_ = other.size_;
    has_zero_ = other.has_zero_;
    zero_ = other.zero_;
    overflow_ = other.overflow_;
    return *this;
}

}  // namespace heapwise::analyzer
