// heapwise::Cache: a thread-safe, byte-bounded LRU cache of string keys and byte values that
// spills to a private disk directory instead of growing; TypedCache<T> layers a codec over it.
// The budget counts what entries really use (key, value and overhead at the allocator's usable
// size) and holds when set() returns. Reference: docs/api-cache.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "heapwise/bytes.hpp"
#include "heapwise/codec.hpp"
#include "heapwise/export.h"
#include "heapwise/units.hpp"

namespace heapwise {

namespace api {
class CacheCore;
class CacheLink;
}

// Why an entry left memory (or the cache). Reported to the eviction listener.
enum class EvictCause : std::uint8_t {
    evicted,   // dropped to stay within a budget (memory, with no disk copy, or the disk cap)
    spilled,   // moved from memory to disk to stay within the memory budget
    expired,   // its TTL passed
    removed,   // erase(), clear() or cleanup()
    replaced,  // set() stored a new value under its key
    pressure,  // moved out of memory by set_memory_limit / spill_coldest / spill_all
};
HEAPWISE_API std::string_view to_string(EvictCause cause) noexcept;

struct EvictionEvent {
    std::string_view key;
    EvictCause cause;
    std::size_t bytes;        // the entry's charge (memory) or file size (disk)
    bool to_disk;             // the value is still available from disk afterwards
    std::string_view reason;  // set for `pressure`: the caller's reason text; else empty
};
// Called after the operation that caused it, on that operation's thread, never under a cache
// lock: it may call back into the cache. Exceptions it throws are swallowed.
using EvictionListener = std::function<void(const EvictionEvent&)>;

// What to do with a value whose entry is larger than the whole memory budget.
enum class Oversize : std::uint8_t { spill, reject };

using CacheClock = std::function<std::chrono::steady_clock::time_point()>;

struct CacheOptions {
    std::size_t max_memory = std::size_t{64} << 20;  // 64 MiB; > 0
    std::size_t max_disk = std::size_t{1} << 30;     // 1 GiB of spill files; 0 = never spill
    std::string spill_dir = {};       // parent of the private 0700 directory; "" = $TMPDIR or /tmp
    bool persistent = false;          // keep spill files across runs ("<spill_dir>/heapwise-cache.<name>")
    std::string name = "default";     // names the persistent directory
    Oversize oversize = Oversize::spill;
    unsigned shards = 0;              // 0 = chosen from the core count; rounded up to a power of 2
    Allocator allocator = Allocator::mimalloc;
    std::chrono::nanoseconds default_ttl{0};  // 0 = entries do not expire
    EvictionListener listener = {};
    CacheClock clock = {};            // TTL time source; default std::chrono::steady_clock::now
};

struct SetOptions {
    bool force_disk = false;          // write straight to disk, keep nothing in memory
    std::chrono::nanoseconds ttl{0};  // 0 = the cache's default_ttl
};

struct CacheStats {
    std::uint64_t items = 0;          // entries in memory and on disk
    std::uint64_t memory_items = 0;
    std::uint64_t memory_bytes = 0;   // as the budget counts them
    std::uint64_t disk_items = 0;
    std::uint64_t disk_bytes = 0;     // spill file sizes
    std::uint64_t memory_limit = 0;   // the effective budget (set_memory_limit)
    std::uint64_t max_memory = 0;
    std::uint64_t max_disk = 0;
    std::uint64_t hits = 0;           // memory hits plus disk hits
    std::uint64_t misses = 0;         // includes corrupt and missing spill files
    std::uint64_t disk_hits = 0;
    std::uint64_t evictions = 0;      // entries moved out of memory for the budget (spilled or not)
    std::uint64_t spills = 0;         // entries written to disk (evicted, forced, pressure)
    std::uint64_t disk_evictions = 0; // spill files removed by the disk cap
    std::uint64_t promotions = 0;     // disk hits moved back into memory
    std::uint64_t expirations = 0;
    std::uint64_t corrupt = 0;        // spill files found damaged or missing (counted as misses)
    std::uint64_t missing = 0;        // of which missing
    std::uint64_t disk_errors = 0;    // failed spill writes
    std::uint64_t loads = 0;          // get_or_load loader runs
    std::uint64_t load_failures = 0;  // loader runs that threw
    bool spill_enabled = false;       // false when disabled by options or after a disk error
};

// Every error the cache reports besides std::invalid_argument (bad options) and std::bad_alloc.
class HEAPWISE_API CacheError : public std::runtime_error {
public:
    enum class Code { spill_dir, too_big, io };
    CacheError(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
    Code code() const noexcept { return code_; }

private:
    Code code_;
};

// One lookup's result for get_into: found, and the value's size (copied only when it fit).
struct Lookup {
    bool found = false;
    std::size_t size = 0;
};

class HEAPWISE_API Cache {
public:
    // Throws std::invalid_argument for bad options, CacheError(spill_dir) when the spill
    // directory cannot be created or is unsafe (symlink, foreign owner, open to others).
    explicit Cache(CacheOptions options = {});
    ~Cache();  // cleanup(): drops everything, removes the spill directory unless persistent
    Cache(Cache&&) noexcept;
    Cache& operator=(Cache&&) noexcept;
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    // Keys are any bytes. Throws CacheError(too_big) for an entry larger than the memory budget
    // under Oversize::reject (or when it cannot go to disk); the previous value is kept then.
    void set(std::string_view key, Bytes value, SetOptions options = {});
    void set(std::string_view key, std::span<const std::byte> value, SetOptions options = {});
    void set(std::string_view key, std::string_view value, SetOptions options = {});

    // An owned copy from memory, or reloaded from disk (and promoted back into memory).
    std::optional<Bytes> get(std::string_view key);
    // The same lookup without a copy: a handle on the cached value itself, kept alive by
    // reference counting until the last handle goes (eviction, replacement, erase, clear and
    // the cache's destruction never invalidate it). A value reloaded from disk comes back as a
    // handle too. Not charged to the budget once the cache let go of it: see held_by_handles().
    std::optional<SharedBytes> get_shared(std::string_view key);
    // Copies the value into buf when it fits; buf is untouched otherwise. One lookup.
    Lookup get_into(std::string_view key, std::span<std::byte> buf);
    // As above; a value that does not fit buf is returned in `overflow` instead.
    Lookup get_into(std::string_view key, std::span<std::byte> buf, Bytes& overflow);
    // The cached value, or runs loader() once per key at a time (concurrent callers of the same
    // key wait for it), caches and returns its result. A throwing loader caches nothing and its
    // exception reaches every waiter.
    Bytes get_or_load(std::string_view key, const std::function<Bytes()>& loader);

    bool erase(std::string_view key);      // true when it was present
    bool contains(std::string_view key);   // memory or disk, not expired; no statistics touched
    void clear();                          // drops every entry (listener: removed)
    void cleanup();                        // clear() and remove the spill directory; stays usable
    std::size_t purge_expired();           // drops expired entries now; returns how many
    CacheStats stats() const;

    // Memory pressure (used by MemoryMonitor::attach and force_cleanup). Each returns the bytes
    // moved out of memory; entries go to disk, or are dropped when spilling is off. The listener
    // sees cause `pressure` with `reason`.
    std::size_t set_memory_limit(std::size_t bytes, std::string_view reason = {});  // <= max_memory
    std::size_t memory_limit() const noexcept;
    std::size_t max_memory() const noexcept;
    std::size_t memory_bytes() const noexcept;
    std::size_t spill_coldest(double fraction, std::string_view reason = {});  // 0..1 of memory
    std::size_t spill_all(std::string_view reason = {});

    void set_listener(EvictionListener listener);
    // The private spill directory ("" when there is none).
    std::string spill_path() const;
    // What an entry with these sizes is charged against the memory budget while its value is
    // in memory (values up to 2 KiB share the key's block; larger ones have their own).
    std::size_t entry_charge(std::size_t key_size, std::size_t value_size) const noexcept;
    // What an entry whose value is only on disk stays charged: its index in memory (the entry's
    // block with the key, its table slot, and the spill index's node).
    std::size_t disk_entry_charge(std::size_t key_size) const noexcept;

private:
    // MemoryMonitor::attach holds the core weakly, so a destroyed or moved cache never dangles.
    friend class api::CacheLink;
    std::shared_ptr<api::CacheCore> core_;
};

// Spills (or drops) the in-memory part of every live Cache in the process; returns the bytes
// moved out of memory. Safe while caches are being created and destroyed on other threads.
HEAPWISE_API std::size_t shrink_all_caches(std::string_view reason);

// A Cache of T values through a codec (see codec.hpp).
template <class T, class C = Codec<T>>
    requires CodecFor<C, T>
class TypedCache {
public:
    explicit TypedCache(CacheOptions options = {}) : cache_(std::move(options)) {}

    void set(std::string_view key, const T& value, SetOptions options = {}) {
        cache_.set(key, Bytes(C::encode(value)), options);
    }
    std::optional<T> get(std::string_view key) {
        auto b = cache_.get(key);
        if (!b) return std::nullopt;
        return T(C::decode(b->span()));
    }
    template <class F>
        requires std::is_invocable_r_v<T, F&>
    T get_or_load(std::string_view key, F&& loader) {
        Bytes b = cache_.get_or_load(key, [&] { return Bytes(C::encode(loader())); });
        return T(C::decode(b.span()));
    }
    bool erase(std::string_view key) { return cache_.erase(key); }
    bool contains(std::string_view key) { return cache_.contains(key); }
    void clear() { cache_.clear(); }
    CacheStats stats() const { return cache_.stats(); }
    Cache& raw() noexcept { return cache_; }

private:
    Cache cache_;
};

}  // namespace heapwise
