// CacheCore: the implementation behind heapwise::Cache. Entries live in N shards, each with its
// own lock, hash table and LRU buckets; the memory budget is global (one atomic byte count) and
// eviction takes the globally least recently used entry (shard tails compared by stamp), so a
// set never evicts what it just stored while older entries exist. Hits read without the lock
// (cache_read.cpp), so whatever leaves a table is retired, not freed. Rules: no lock is held
// across file I/O, across a listener call or while taking another shard's lock; a shard lock may
// be held while taking the spill index lock, never the reverse.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache_entry.hpp"
#include "cache_lock.hpp"
#include "cache_lru.hpp"
#include "cache_table.hpp"
#include "heapwise/cache.hpp"
#include "spill_store.hpp"

namespace heapwise::api {

class CacheCore;

// What an operation leaves for after its locks are released: listener events, spill files to
// unlink and large buffers to free. Declare it before any lock guard so it runs last.
class Deferred {
public:
    Deferred(CacheCore& core, std::string_view reason = {});
    Deferred(const Deferred&) = delete;
    Deferred& operator=(const Deferred&) = delete;
    ~Deferred() { finish(); }

    void event(const Entry* e, EvictCause cause, std::size_t bytes, bool to_disk);
    // Replaces the reason the pending `pressure` events carry (a text written once the
    // operation knows what it did).
    void set_reason(std::string reason) {
        owned_reason_ = std::move(reason);
        reason_ = owned_reason_;
    }
    void unlink(std::uint64_t hash, std::uint64_t seq) { unlinks_.push_back({hash, seq}); }
    void finish() noexcept;

private:
    struct Pending {
        std::string key;
        EvictCause cause;
        std::size_t bytes;
        bool to_disk;
    };
    CacheCore& core_;
    std::string owned_reason_;
    std::string_view reason_;
    bool events_;
    std::vector<Pending> pending_;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> unlinks_;
};

struct LoadSlot {
    std::promise<Bytes> promise;
    std::shared_future<Bytes> future;
};

// The first cache line holds all a hit writes or reads besides the entry: the lock, the
// table's fields and the hit and miss counters (atomic: lock-free hits and misses count there).
struct alignas(64) Shard {
    ShardLock mu;
    EntryTable table;
    std::atomic<std::uint64_t> hits{0}, misses{0};
    LruBuckets lru;
    std::atomic<std::size_t> lru_bytes{0};  // value charges on the LRU list (eviction candidates)
    // The LRU tail's list_stamp (kNoTail when the list is empty), kept by note_tail under the
    // lock, so eviction compares the shards' tails without taking every shard's lock.
    static constexpr std::uint64_t kNoTail = ~std::uint64_t{0};
    std::atomic<std::uint64_t> tail_stamp{kNoTail};
    void note_tail() noexcept {
        const Entry* t = lru.back();
        tail_stamp.store(t != nullptr ? t->list_stamp : kNoTail, std::memory_order_relaxed);
    }
    std::size_t memory_items = 0;           // state memory or spilling
    std::size_t disk_items = 0;
    std::uint64_t disk_hits = 0, promotions = 0, expirations = 0, corrupt = 0, missing = 0;
    std::unordered_map<std::string, std::shared_ptr<LoadSlot>> loading;
    // Entries taken out of the table that a lock-free reader may still be copying: chained
    // through link.next, tagged (reclaim::retire_epoch) in list_stamp, freed by collect.
    Entry* retired = nullptr;
    std::size_t retired_count = 0, retired_bytes = 0;
};
#if !defined(__SANITIZE_THREAD__)  // there ShardLock is a 40-byte std::mutex
static_assert(sizeof(ShardLock) + sizeof(EntryTable) + 2 * sizeof(std::uint64_t) <= 64,
              "a hit's shard state must fit one cache line");
#endif

class CacheCore {
public:
    explicit CacheCore(CacheOptions options);  // options already validated
    ~CacheCore();
    CacheCore(const CacheCore&) = delete;
    CacheCore& operator=(const CacheCore&) = delete;

    // `owned` (may be null) holds view's bytes and is taken over for values too large to inline.
    void set(std::string_view key, std::span<const std::byte> view, Bytes* owned,
             const SetOptions& options);
    std::optional<Bytes> get(std::string_view key);
    std::optional<SharedBytes> get_shared(std::string_view key);
    Lookup get_into(std::string_view key, std::span<std::byte> buf, Bytes* overflow);
    Bytes get_or_load(std::string_view key, const std::function<Bytes()>& loader);
    bool erase(std::string_view key);
    bool contains(std::string_view key);
    void clear();
    void cleanup();
    std::size_t purge_expired();
    CacheStats stats() const;

    std::size_t set_memory_limit(std::size_t bytes, std::string_view reason);
    std::size_t memory_limit() const noexcept { return limit_.load(std::memory_order_relaxed); }
    std::size_t max_memory() const noexcept { return options_.max_memory; }
    std::size_t memory_bytes() const noexcept {
        return memory_bytes_.load(std::memory_order_relaxed);
    }
    std::size_t spill_coldest(double fraction, std::string_view reason);
    std::size_t spill_all(std::string_view reason);
    // One pressure action (MemoryMonitor::attach): spills `fraction` (0..1) of the values in
    // memory, then lowers the limit to `limit` (spilling more if needed). The listener's events
    // carry reason(moved), moved being every byte the action took out of memory; it is called
    // once, with no lock held, and the events follow it, also with no lock held.
    std::size_t relieve(double fraction, std::size_t limit,
                        const std::function<std::string(std::size_t moved)>& reason);

    void set_listener(EvictionListener listener);
    std::shared_ptr<const EvictionListener> listener() const;
    bool has_listener() const noexcept { return has_listener_.load(std::memory_order_relaxed); }
    std::string spill_path() const { return store_ ? store_->path() : std::string(); }
    std::size_t entry_charge(std::size_t key_size, std::size_t value_size) const noexcept;
    std::size_t disk_entry_charge(std::size_t key_size) const noexcept;
    SpillStore* store() noexcept { return store_.get(); }

    // The destructor's work: persistent caches spill what is in memory and keep their files,
    // others drop everything and remove the directory. No listener calls after it starts.
    void close() noexcept;

private:
    friend class Deferred;
    enum class DiskRead { hit, promoted, gone, retry };

    // The lock-free probe behind read(). kHit: on_hit(e) ran on a live memory entry
    // (inside the read section, so e cannot be freed meanwhile); kMiss: the key is certainly
    // absent; kUnsure: a concurrent change or no reader slot, so the caller takes the lock.
    enum class FastRead { kHit, kMiss, kUnsure };
    template <class OnHit>
    FastRead read_lock_free(Shard& s, std::uint64_t h, std::string_view key, OnHit&& on_hit) {
        reclaim::ReadSection rs;
        if (!rs.ok()) return FastRead::kUnsure;
        const std::uint32_t version = s.table.version();
        if (Entry* e = s.table.find_concurrent(h, key)) {
            if (e->state_now() == EntryState::disk || expired(e)) return FastRead::kUnsure;
            mark_used(e);
            bump(reader_counts_[rs.index()].hits);
            on_hit(e);
            return FastRead::kHit;
        }
        if (!s.table.unchanged_since(version)) return FastRead::kUnsure;
        bump(reader_counts_[rs.index()].misses);
        return FastRead::kMiss;
    }

    // get, get_shared and get_into: the lock-free probe, and get_slow when the probe cannot
    // decide; sink.memory(e) or sink.disk(v) writes the result into sink.out, which a miss
    // leaves empty.
    template <class Sink>
    void read(std::string_view key, Sink& sink);

    // High bits pick the shard; the table inside uses the low bits.
    // A hit: records the use without relinking (see LruBuckets).
    void mark_used(Entry* e) noexcept {
        const std::uint64_t ep = epoch_.load(std::memory_order_relaxed);
        if (e->use() != ep) e->set_use(ep);
    }
    // Under the shard's lock, after e left the table (and the LRU list): e is freed once no
    // lock-free reader can hold it. The shard's retired entries and arrays are collected when
    // they reach kRetireBatch entries or kRetireBytes; collect frees what no reader can hold.
    void retire(Shard& s, Entry* e) noexcept;
    void collect(Shard& s) noexcept;
    static constexpr std::size_t kRetireBatch = 64, kRetireBytes = std::size_t{1} << 20;
    Shard& shard_for(std::uint64_t hash) noexcept { return shards_[(hash >> 40) & shard_mask_]; }
    std::int64_t now_ns() const;
    std::int64_t deadline_for(std::chrono::nanoseconds ttl) const;
    std::int64_t expiry_unix_ns(std::int64_t deadline_ns) const;
    bool expired(const Entry* e) const { return e->deadline_ns != 0 && now_ns() >= e->deadline_ns; }
    std::size_t index_charge(std::size_t key_len) const noexcept;
    // A memory entry for key holding `view` (inline) or `owned`/a copy of view (own block).
    Entry* make_entry(std::string_view key, std::uint64_t hash, std::span<const std::byte> view,
                      Bytes* owned);
    // A disk entry's block (header and key only) with its charges.
    Entry* make_disk_entry(std::string_view key, std::uint64_t hash);
    // Under the shard's lock: the spilled or promoted replacement `to` takes `from`'s place.
    void swap_in_locked(Shard& s, Entry* from, Entry* to) noexcept;

    // Under the shard's lock: takes e out of the cache (spilling entries are orphaned instead).
    void remove_locked(Shard& s, Entry* e, EvictCause cause, Deferred& d);
    void insert_locked(Shard& s, Entry* e);
    // Misses, expired entries and disk reads. sink.memory(e) runs under the shard lock on a live
    // memory entry (a promoted one included); sink.disk(v) takes a value read from disk that
    // stayed there. With sink.kAdopt a promoted value's buffer moves into the entry (no copy).
    // Out of line and cold, so the hit path saves and restores no registers for it.
    template <class Sink>
    [[gnu::noinline, gnu::cold]] void get_slow(std::string_view key, std::uint64_t hash, Shard& s,
                                               Sink& sink);
    bool set_on_disk(std::uint64_t hash, std::string_view key, std::span<const std::byte> value,
                     std::int64_t deadline_ns, Deferred& d);
    // A promoted entry is returned in *fresh (lock still held); with adopt, out's buffer moved
    // into it.
    DiskRead read_from_disk(Shard& s, Entry* e, std::unique_lock<ShardLock>& lk,
                            std::string_view key, Bytes& out, Deferred& d, bool adopt,
                            Entry** fresh);

    static constexpr std::size_t kNoQuota = ~std::size_t{0};
    // Moves the coldest entries out of memory until memory use (minus values being written) is
    // <= target or, with a quota, until that many value bytes left; returns the bytes freed.
    // cause: spilled (budget) or pressure. drop_disk_index: when no value is left in memory,
    // drop the oldest disk entries too (their index is what is over the budget).
    std::size_t shrink_to(std::size_t target, EvictCause cause, bool drop_disk_index,
                          Deferred& d, std::size_t value_quota = kNoQuota);
    // The shard whose LRU tail was placed first (lowest stamp), or nullptr.
    Shard* coldest_shard();
    std::size_t spill_one(Shard& s, Entry* e, EvictCause cause, Deferred& d);
    // What spilling e would take out of memory (its charge less a disk entry's).
    std::size_t spill_gain(const Entry* e) const noexcept;
    bool drop_oldest_disk_entry(std::uint64_t cap, Deferred& d);
    void enforce_disk_cap(Deferred& d);
    void recover_persistent();
    std::size_t lru_total() const noexcept;

    // Lock-free hits and misses, one slot per reader record (so per thread): a slot has one
    // writer at a time, which adds with a load and a store instead of a locked instruction.
    struct alignas(64) ReaderCounts {
        std::atomic<std::uint64_t> hits{0}, misses{0};
    };
    static void bump(std::atomic<std::uint64_t>& c) noexcept {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    CacheOptions options_;
    std::unique_ptr<ReaderCounts[]> reader_counts_;
    std::unique_ptr<Shard[]> shards_;
    unsigned shard_count_;
    unsigned shard_mask_;
    std::unique_ptr<SpillStore> store_;

    std::atomic<std::size_t> limit_;
    // Advanced by 2 whenever an entry is placed at an LRU front (placements even, the epoch
    // odd between them); hits stamp entries with it (a read of a shared counter, no write), so
    // a tail's use can be compared with placements and the tails of different shards with each
    // other (global LRU order).
    std::atomic<std::uint64_t> epoch_{1};
    std::atomic<std::size_t> memory_bytes_{0};    // every entry's charge (disk entries: index)
    std::atomic<std::size_t> spilling_bytes_{0};  // value charges being written right now
    std::atomic<std::uint64_t> evictions_{0}, spills_{0}, disk_evictions_{0}, expirations_{0},
        corrupt_{0}, loads_{0}, load_failures_{0};
    std::atomic<bool> closed_{false};

    mutable std::mutex listener_mu_;
    std::shared_ptr<const EvictionListener> listener_;
    std::atomic<bool> has_listener_{false};
};

}  // namespace heapwise::api
