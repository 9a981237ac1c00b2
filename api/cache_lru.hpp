// LruBuckets: a shard's eviction order, LRU at the granularity of epoch windows, O(1) amortized
// per operation whatever the access pattern. Entries sit in buckets of 2^shift epochs (about
// kPerBucket placements of the shard each), one intrusive list per bucket in a ring; the victim is
// the back of the oldest non-empty bucket. Hits never touch the lists: they stamp last_use, and an
// entry found at the back with a newer use moves into the bucket of that use (one unlink, at most
// kWalk steps, one link). Guarded by the shard's lock; allocates only when the ring grows.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>

#include "cache_entry.hpp"

namespace heapwise::api {

class LruBuckets {
public:
    // Placements of one shard per bucket, on average: the window inside which order is loose.
    static constexpr std::uint64_t kPerBucket = 16;
    // Entries a reposition passes at most inside the target bucket: the exact place is found
    // whenever it is at most this far from the bucket's back.
    static constexpr unsigned kWalk = 16;
    // The epoch advances by 2 per placement cache-wide, spread over `shards` shards.
    static unsigned shift_for(unsigned shards) noexcept {
        return static_cast<unsigned>(std::bit_width(2 * kPerBucket * std::bit_ceil(shards)) - 1);
    }
    // Sets (cache-wide) per bucket: two uses further apart than this are ordered exactly.
    static std::uint64_t window_sets(unsigned shards) noexcept {
        return (std::uint64_t{1} << shift_for(shards)) / 2;
    }

    LruBuckets() : ring_(fresh_ring(kInitialRing)), mask_(kInitialRing - 1) {}
    LruBuckets(const LruBuckets&) = delete;
    LruBuckets& operator=(const LruBuckets&) = delete;

    void set_shards(unsigned shards) noexcept { shift_ = shift_for(shards); }
    bool empty() const noexcept { return count_ == 0; }

    // A placement: e->list_stamp is the newest epoch this shard has seen, so e goes in front of
    // every entry of the shard.
    void push_front(Entry* e) {
        LruLink* b = bucket_for(e->list_stamp >> shift_);
        e->link.prev = b;
        e->link.next = b->next;
        b->next->prev = &e->link;
        b->next = &e->link;
        ++count_;
    }
    void unlink(Entry* e) noexcept {
        e->link.prev->next = e->link.next;
        e->link.next->prev = e->link.prev;
        e->link.prev = e->link.next = nullptr;
        --count_;
    }
    // e (on the list, last_use > list_stamp) moves into the bucket of its last use, at the place
    // that use has in stamp order, searched from the bucket's back over at most kWalk entries.
    // When the search is cut short e lands there anyway with the stamp of the entry in front of
    // which it lands (lowered), so each list stays ordered by stamp and the shard's back has its
    // lowest stamp; last_use follows, so e counts as settled until it is used again.
    void reposition(Entry* e) {
        const std::uint64_t use = e->use();
        unlink(e);
        LruLink* b = bucket_for(use >> shift_);
        LruLink* cur = b->prev;  // e goes right behind cur (toward the back)
        for (unsigned n = 0; cur != b && entry_of(cur)->list_stamp <= use && n < kWalk; ++n) {
            cur = cur->prev;
        }
        const std::uint64_t stamp =
            cur != b && entry_of(cur)->list_stamp <= use ? entry_of(cur)->list_stamp : use;
        e->link.prev = cur;
        e->link.next = cur->next;
        cur->next->prev = &e->link;
        cur->next = &e->link;
        ++count_;
        e->list_stamp = stamp;
        if (stamp != use) e->settle_use(use, stamp);
    }
    Entry* back() noexcept {
        if (count_ == 0) return nullptr;
        // Skips buckets emptied since: each is skipped once (amortized O(1)).
        while (ring_[oldest_ & mask_].next == &ring_[oldest_ & mask_]) ++oldest_;
        return entry_of(ring_[oldest_ & mask_].prev);
    }
    std::size_t ring_size() const noexcept { return mask_ + 1; }

private:
    static constexpr std::size_t kInitialRing = 64;

    static Entry* entry_of(LruLink* l) noexcept { return reinterpret_cast<Entry*>(l); }
    static std::unique_ptr<LruLink[]> fresh_ring(std::size_t n) {
        auto r = std::make_unique<LruLink[]>(n);
        for (std::size_t i = 0; i < n; ++i) r[i].prev = r[i].next = &r[i];
        return r;
    }
    // Moves src's entries, in order, behind dst's (src ends empty).
    static void append_chain(LruLink* dst, LruLink* src) noexcept {
        if (src->next == src) return;
        LruLink* first = src->next;
        LruLink* last = src->prev;
        first->prev = dst->prev;
        dst->prev->next = first;
        last->next = dst;
        dst->prev = last;
        src->next = src->prev = src;
    }
    // The list for absolute bucket b: opens buckets up to b, or clamps b to the oldest one
    // (a use older than every bucket left ranks with the oldest entries).
    LruLink* bucket_for(std::uint64_t b) {
        if (count_ == 0) {
            oldest_ = newest_ = b;
        } else if (b > newest_) {
            if (b - oldest_ > mask_) make_room(b);
            newest_ = b;
        } else if (b < oldest_) {
            b = oldest_;
        }
        return &ring_[b & mask_];
    }
    // Bucket b is more than the ring ahead of the oldest: grow the ring while it stays under
    // a quarter link per entry, else fold the oldest buckets into one (order kept: the folded
    // lists go behind it, oldest last). Each fold retires buckets for good: amortized O(1).
    void make_room(std::uint64_t b) {
        while (b - oldest_ > mask_ && 2 * (mask_ + 1) <= count_ / 4) grow();
        if (b - oldest_ <= mask_) return;
        const std::uint64_t keep = b - mask_;  // the new oldest bucket
        LruLink chain;
        chain.prev = chain.next = &chain;
        for (std::uint64_t i = std::min(keep - 1, newest_) + 1; i-- > oldest_;) {
            append_chain(&chain, &ring_[i & mask_]);
        }
        append_chain(&ring_[keep & mask_], &chain);
        oldest_ = keep;
        newest_ = std::max(newest_, keep);
    }
    void grow() {
        const std::size_t n = 2 * (mask_ + 1);
        auto fresh = fresh_ring(n);
        for (std::uint64_t i = oldest_; i <= newest_; ++i) {
            append_chain(&fresh[i & (n - 1)], &ring_[i & mask_]);
        }
        ring_ = std::move(fresh);
        mask_ = n - 1;
    }

    std::unique_ptr<LruLink[]> ring_;
    std::uint64_t mask_;
    std::uint64_t oldest_ = 0, newest_ = 0;  // absolute bucket numbers (epoch >> shift_)
    std::size_t count_ = 0;
    unsigned shift_ = 5;
};

}  // namespace heapwise::api
