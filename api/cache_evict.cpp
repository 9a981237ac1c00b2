// CacheCore: making room. Budget eviction and memory-pressure requests move the coldest entries
// out of memory (to disk when spilling is on, else dropped); the disk cap removes the oldest
// spill files. Files are written with no lock held; a spilling entry stays readable meanwhile.
#include <algorithm>
#include <new>
#include <stdexcept>

#include "cache_core.hpp"

namespace heapwise::api {

Shard* CacheCore::coldest_shard() {
    Shard* best = nullptr;
    std::uint64_t best_use = ~std::uint64_t{0};
    // A list is ordered by stamp and an entry's last use is never older than its stamp, so the
    // tail's stamp bounds the recency of every entry in the shard from below; shrink_to settles
    // a tail that was used since (LRU across shards, to the epoch). The stamps are read without
    // the shards' locks (Shard::tail_stamp): a shard changed meanwhile is settled under its lock.
    for (unsigned i = 0; i < shard_count_; ++i) {
        Shard& s = shards_[i];
        const std::uint64_t stamp = s.tail_stamp.load(std::memory_order_relaxed);
        if (stamp != Shard::kNoTail && stamp < best_use) {
            best_use = stamp;
            best = &s;
        }
    }
    return best;
}

std::size_t CacheCore::shrink_to(std::size_t target, EvictCause cause, bool drop_disk_index,
                                 Deferred& d, std::size_t value_quota) {
    const EvictCause dropped_cause = cause == EvictCause::spilled ? EvictCause::evicted : cause;
    std::size_t moved = 0, value_moved = 0;
    for (;;) {
        if (value_quota == kNoQuota) {
            const std::size_t mem = memory_bytes_.load(std::memory_order_relaxed);
            const std::size_t spilling = spilling_bytes_.load(std::memory_order_relaxed);
            if ((mem > spilling ? mem - spilling : 0) <= target) break;
        } else if (value_moved >= value_quota) {
            break;
        }
        Shard* best = coldest_shard();
        if (best == nullptr) {
            // Only spill-file index entries are left in memory: drop the oldest of them.
            if (value_quota == kNoQuota && drop_disk_index && drop_oldest_disk_entry(0, d)) {
                continue;
            }
            break;
        }
        Entry* victim = nullptr;
        {
            std::lock_guard lk(best->mu);
            Entry* e = best->lru.back();
            // A tail used since its placement is not necessarily this shard's least recently
            // used entry: move it to the bucket of its last use (O(1), LruBuckets). Its stamp is
            // at most that use (not a fresh one), so it never looks newer than entries set after
            // it was read.
            bool restamped = false;
            while (e != nullptr && e->use() > e->list_stamp) {
                best->lru.reposition(e);
                e = best->lru.back();
                restamped = true;
            }
            if (restamped) best->note_tail();
            // This shard's tail stamp rose: compare shards again. Ends: a re-stamped entry
            // needs a new use to be re-stamped again, and every other pass evicts.
            if (e == nullptr || restamped) continue;
            value_moved += e->value_charge;
            if (expired(e)) {
                ++best->expirations;
                moved += e->charge();
                remove_locked(*best, e, EvictCause::expired, d);
                continue;
            }
            evictions_.fetch_add(1, std::memory_order_relaxed);
            if (store_ && store_->enabled() &&
                SpillStore::file_size_for(e->key_len, e->value_size) <= store_->max_disk()) {
                best->lru.unlink(e);  // e is the tail
                best->note_tail();
                best->lru_bytes.fetch_sub(e->value_charge, std::memory_order_relaxed);
                store_shared(e->state, EntryState::spilling);  // lock-free hits read it
                spilling_bytes_.fetch_add(spill_gain(e), std::memory_order_relaxed);
                victim = e;
            } else {
                moved += e->charge();
                remove_locked(*best, e, dropped_cause, d);
            }
        }
        if (victim != nullptr) moved += spill_one(*best, victim, cause, d);
    }
    return moved;
}

std::size_t CacheCore::spill_gain(const Entry* e) const noexcept {
    const std::size_t after = disk_entry_charge(e->key_len);
    return e->charge() > after ? e->charge() - after : 0;
}

// Writes a spilling entry's file (no lock held), then settles it under its shard lock: a small
// disk entry (header and key) takes its place and its block goes, so only the index stays
// charged. Returns the bytes that left memory.
std::size_t CacheCore::spill_one(Shard& s, Entry* e, EvictCause cause, Deferred& d) {
    auto w = store_->write(e->hash, e->key(), e->value(), expiry_unix_ns(e->deadline_ns));
    Entry* disk = nullptr;
    if (w) {
        try {
            disk = make_disk_entry(e->key(), e->hash);
        } catch (const std::bad_alloc&) {  // no room for the index: drop the entry instead
            store_->unlink_file(e->hash, w->seq);
            w.reset();
        }
    }
    std::size_t moved = 0;
    {
        std::lock_guard lk(s.mu);
        spilling_bytes_.fetch_sub(spill_gain(e), std::memory_order_relaxed);
        if (e->orphaned) {  // erased or replaced while we wrote: nothing to keep
            if (w) d.unlink(e->hash, w->seq);
            moved = e->charge();
            memory_bytes_.fetch_sub(moved, std::memory_order_relaxed);
        } else if (!w) {  // spilling just turned off: drop it to keep the budget
            s.table.erase(e);
            --s.memory_items;
            moved = e->charge();
            d.event(e, cause == EvictCause::spilled ? EvictCause::evicted : cause, moved, false);
            memory_bytes_.fetch_sub(moved, std::memory_order_relaxed);
        } else {
            spills_.fetch_add(1, std::memory_order_relaxed);
            disk->disk.seq = w->seq;
            disk->disk.size = w->file_size;
            const std::size_t before = e->charge();
            swap_in_locked(s, e, disk);
            moved = before > disk->charge() ? before - disk->charge() : 0;
            store_->index_add(w->seq, disk->hash, w->file_size);
            disk = nullptr;
            --s.memory_items;
            ++s.disk_items;
            d.event(e, cause, moved, true);
        }
        retire(s, e);  // a lock-free hit may still be copying its value
    }
    if (disk != nullptr) Entry::destroy(disk);
    if (w) enforce_disk_cap(d);
    return moved;
}

bool CacheCore::drop_oldest_disk_entry(std::uint64_t cap, Deferred& d) {
    if (!store_) return false;
    auto o = store_->pop_oldest_over(cap);
    if (!o) return false;
    Shard& s = shard_for(o->hash);
    {
        std::lock_guard lk(s.mu);
        Entry* e = s.table.find_if(o->hash, [&](const Entry* x) {
            return x->state == EntryState::disk && x->disk.seq == o->seq;
        });
        if (e != nullptr) {
            s.table.erase(e);
            --s.disk_items;
            d.event(e, EvictCause::evicted, e->disk.size, false);
            memory_bytes_.fetch_sub(e->charge(), std::memory_order_relaxed);
            retire(s, e);
            disk_evictions_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    d.unlink(o->hash, o->seq);
    return true;
}

void CacheCore::enforce_disk_cap(Deferred& d) {
    while (drop_oldest_disk_entry(options_.max_disk, d)) {
    }
}

std::size_t CacheCore::set_memory_limit(std::size_t bytes, std::string_view reason) {
    bytes = std::min(bytes, options_.max_memory);
    limit_.store(bytes, std::memory_order_relaxed);
    Deferred d(*this, reason);
    return shrink_to(bytes, EvictCause::pressure, true, d);
}

std::size_t CacheCore::spill_coldest(double fraction, std::string_view reason) {
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
        throw std::invalid_argument("heapwise::Cache::spill_coldest: fraction must be in [0, 1]");
    }
    if (closed_.load(std::memory_order_relaxed)) return 0;
    const auto amount = static_cast<std::size_t>(static_cast<double>(lru_total()) * fraction);
    if (amount == 0) return 0;
    Deferred d(*this, reason);
    return shrink_to(0, EvictCause::pressure, false, d, amount);
}

std::size_t CacheCore::spill_all(std::string_view reason) { return spill_coldest(1.0, reason); }

std::size_t CacheCore::relieve(double fraction, std::size_t limit,
                               const std::function<std::string(std::size_t)>& reason) {
    Deferred d(*this);  // destroyed last: events go out after every lock is released
    std::size_t moved = 0;
    if (!closed_.load(std::memory_order_relaxed)) {
        const auto amount =
            static_cast<std::size_t>(static_cast<double>(lru_total()) * std::clamp(fraction, 0.0, 1.0));
        if (amount > 0) moved += shrink_to(0, EvictCause::pressure, false, d, amount);
    }
    limit = std::min(limit, options_.max_memory);
    limit_.store(limit, std::memory_order_relaxed);
    moved += shrink_to(limit, EvictCause::pressure, true, d);
    d.set_reason(reason(moved));
    return moved;
}

std::size_t CacheCore::purge_expired() {
    Deferred d(*this);
    std::size_t n = 0;
    for (unsigned i = 0; i < shard_count_; ++i) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        std::vector<Entry*> doomed;
        s.table.for_each([&](Entry* e) {
            if (expired(e)) doomed.push_back(e);
        });
        for (Entry* e : doomed) remove_locked(s, e, EvictCause::expired, d);
        s.expirations += doomed.size();
        n += doomed.size();
    }
    return n;
}

void CacheCore::recover_persistent() {
    std::uint64_t bad = 0, expired_files = 0;
    const auto unix_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    auto files = store_->recover(unix_now, &bad, &expired_files);
    corrupt_.fetch_add(bad, std::memory_order_relaxed);
    expirations_.fetch_add(expired_files, std::memory_order_relaxed);
    Deferred d(*this);
    const std::int64_t now = now_ns();
    for (RecoveredFile& f : files) {
        Entry* e = make_disk_entry(f.key, f.hash);
        e->disk.seq = f.seq;
        e->disk.size = f.file_size;
        e->value_size = f.value_size;
        e->deadline_ns = f.expiry_unix_ns != 0 ? now + (f.expiry_unix_ns - unix_now) : 0;
        Shard& s = shard_for(f.hash);
        std::lock_guard lk(s.mu);
        insert_locked(s, e);
    }
    enforce_disk_cap(d);
    if (memory_bytes() > memory_limit()) shrink_to(memory_limit(), EvictCause::spilled, true, d);
}

}  // namespace heapwise::api
