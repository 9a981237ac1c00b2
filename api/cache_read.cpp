// CacheCore's read path: get, get_shared, get_into, the disk read with promotion, and stats(). Hot path (get
// of an entry in memory): one hash, no lock — a reclaim::ReadSection, a probe of the shard's
// table with atomic loads, the entry's block (value inline) and one copy, which stays valid
// because entries and slot arrays a writer removes are retired, not freed, until no section can
// hold them. It writes only the entry's use stamp and the shard's hit counter, and must never do
// I/O, lock, call the listener or touch another shard. A miss: the same probe, unless an erase
// ran meanwhile (then the locked path decides).
#include <cstring>

#include "cache_core.hpp"
#include "cache_hash.hpp"
#include "cache_shared.hpp"

namespace heapwise::api {

namespace {

// read's sinks: what get (an owned copy), get_shared (a handle) and get_into (the caller's buffer,
// or an overflow copy) make of a found value.
struct CopySink {
    static constexpr bool kAdopt = false;
    Allocator alloc;
    std::optional<Bytes>& out;
    void memory(const Entry* e) { out.emplace(BytesAccess::copy_of(e->value(), alloc)); }
    void disk(Bytes&& v) { out.emplace(std::move(v)); }
};
struct ShareSink {
    static constexpr bool kAdopt = true;
    Allocator alloc;
    std::optional<SharedBytes>& out;
    void memory(Entry* e) { out.emplace(SharedAccess::acquire(e)); }
    void disk(Bytes&& v) { out.emplace(SharedAccess::adopt(std::move(v), alloc)); }
};
struct IntoSink {
    static constexpr bool kAdopt = false;
    Allocator alloc;
    std::span<std::byte> buf;
    Bytes* overflow;         // nullptr: a value larger than buf is only measured
    std::optional<std::size_t>& out;  // the value's size, when found
    void memory(const Entry* e) {
        out = e->value_size;
        if (*out <= buf.size()) {
            if (*out > 0) std::memcpy(buf.data(), e->data, *out);
        } else if (overflow != nullptr) {
            *overflow = Bytes(e->value(), alloc);
        }
    }
    void disk(Bytes&& v) {
        out = v.size();
        if (*out <= buf.size()) {
            if (*out > 0) std::memcpy(buf.data(), v.data(), *out);
        } else if (overflow != nullptr) {
            *overflow = std::move(v);
        }
    }
};

}  // namespace

template <class Sink>
void CacheCore::read(std::string_view key, Sink& sink) {
    const std::uint64_t h = hash_key(key);
    Shard& s = shard_for(h);
    if (read_lock_free(s, h, key, [&](Entry* e) { sink.memory(e); }) == FastRead::kUnsure) {
        get_slow(key, h, s, sink);
    }
}

// The sinks write to the caller's result, so it is returned in place (no move of the value).
std::optional<Bytes> CacheCore::get(std::string_view key) {
    std::optional<Bytes> out;
    CopySink sink{options_.allocator, out};
    read(key, sink);
    return out;
}

// The same lookup; a hit takes a reference on the entry instead of copying its value (the one
// RMW is on the entry's own line, which only readers of that key share).
std::optional<SharedBytes> CacheCore::get_shared(std::string_view key) {
    std::optional<SharedBytes> out;
    ShareSink sink{options_.allocator, out};
    read(key, sink);
    return out;
}

Lookup CacheCore::get_into(std::string_view key, std::span<std::byte> buf, Bytes* overflow) {
    std::optional<std::size_t> n;
    IntoSink sink{options_.allocator, buf, overflow, n};
    read(key, sink);
    return n ? Lookup{true, *n} : Lookup{};
}

// No reader record, a miss during an erase, or an entry to expire or read from disk (with
// promotion), which may call the listener.
template <class Sink>
void CacheCore::get_slow(std::string_view key, std::uint64_t h, Shard& s, Sink& sink) {
    Deferred d(*this);
    bool promoted = false;
    for (int attempt = 0;; ++attempt) {
        std::unique_lock lk(s.mu);
        Entry* e = s.table.find(h, key);
        if (e != nullptr && expired(e)) {
            ++s.expirations;
            remove_locked(s, e, EvictCause::expired, d);
            e = nullptr;
        }
        if (e == nullptr) {
            s.misses.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        if (e->state != EntryState::disk) {
            mark_used(e);
            s.hits.fetch_add(1, std::memory_order_relaxed);
            sink.memory(e);
            break;
        }
        Bytes v;
        Entry* fresh = nullptr;
        DiskRead r = read_from_disk(s, e, lk, key, v, d, Sink::kAdopt, &fresh);
        if (r == DiskRead::retry && attempt < 3) continue;
        if (r == DiskRead::promoted && Sink::kAdopt) {
            sink.memory(fresh);
        } else if (r == DiskRead::hit || r == DiskRead::promoted) {
            lk.unlock();  // wrapping v may allocate: not under the lock
            sink.disk(std::move(v));
        }
        if (r == DiskRead::retry) s.misses.fetch_add(1, std::memory_order_relaxed);
        promoted = r == DiskRead::promoted;
        break;
    }
    if (promoted && memory_bytes() > memory_limit()) {
        shrink_to(memory_limit(), EvictCause::spilled, true, d);
    }
}

// Called with lk held on a disk entry; reads the file with the lock released.
CacheCore::DiskRead CacheCore::read_from_disk(Shard& s, Entry* e, std::unique_lock<ShardLock>& lk,
                                              std::string_view key, Bytes& out, Deferred& d,
                                              bool adopt, Entry** fresh_out) {
    const std::uint64_t h = e->hash, seq = e->disk.seq;
    const std::size_t value_size = e->value_size;
    lk.unlock();
    ReadStatus st = store_->read(h, seq, key, value_size, options_.allocator, out);
    lk.lock();
    Entry* cur = s.table.find(h, key);
    const bool same = cur != nullptr && cur->state == EntryState::disk && cur->disk.seq == seq;
    if (st == ReadStatus::ok) {
        s.hits.fetch_add(1, std::memory_order_relaxed);
        ++s.disk_hits;
        if (!same || entry_charge(key.size(), out.size()) > memory_limit()) return DiskRead::hit;
        // Promote: a memory entry (value inline or a copy) replaces the disk one and becomes
        // the most recently used; its file goes.
        Entry* fresh = make_entry(key, h, out.span(), adopt ? &out : nullptr);
        fresh->deadline_ns = cur->deadline_ns;
        if (store_->index_remove(seq)) d.unlink(h, seq);
        --s.disk_items;
        s.table.erase(cur);
        memory_bytes_.fetch_sub(cur->charge(), std::memory_order_relaxed);
        retire(s, cur);
        insert_locked(s, fresh);
        ++s.promotions;
        *fresh_out = fresh;
        return DiskRead::promoted;
    }
    if (!same) return DiskRead::retry;  // changed while we read: look again
    ++s.corrupt;
    if (st == ReadStatus::missing) ++s.missing;
    s.misses.fetch_add(1, std::memory_order_relaxed);
    remove_locked(s, cur, EvictCause::evicted, d);
    return DiskRead::gone;
}

CacheStats CacheCore::stats() const {
    CacheStats st;
    for (unsigned i = 0; i < shard_count_; ++i) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        st.memory_items += s.memory_items;
        st.disk_items += s.disk_items;
        st.hits += s.hits.load(std::memory_order_relaxed);
        st.misses += s.misses.load(std::memory_order_relaxed);
        st.disk_hits += s.disk_hits;
        st.promotions += s.promotions;
        st.expirations += s.expirations;
        st.corrupt += s.corrupt;
        st.missing += s.missing;
    }
    for (unsigned i = 0; i < reclaim::kMaxReaders; ++i) {
        st.hits += reader_counts_[i].hits.load(std::memory_order_relaxed);
        st.misses += reader_counts_[i].misses.load(std::memory_order_relaxed);
    }
    st.items = st.memory_items + st.disk_items;
    st.memory_bytes = memory_bytes();
    st.disk_bytes = store_ ? store_->disk_bytes() : 0;
    st.memory_limit = memory_limit();
    st.max_memory = options_.max_memory;
    st.max_disk = options_.max_disk;
    st.evictions = evictions_.load(std::memory_order_relaxed);
    st.spills = spills_.load(std::memory_order_relaxed);
    st.disk_evictions = disk_evictions_.load(std::memory_order_relaxed);
    st.expirations += expirations_.load(std::memory_order_relaxed);
    st.corrupt += corrupt_.load(std::memory_order_relaxed);
    st.disk_errors = store_ ? store_->write_errors() : 0;
    st.loads = loads_.load(std::memory_order_relaxed);
    st.load_failures = load_failures_.load(std::memory_order_relaxed);
    st.spill_enabled = store_ && store_->enabled() && !closed_.load(std::memory_order_relaxed);
    return st;
}

}  // namespace heapwise::api
