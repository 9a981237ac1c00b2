// CacheCore: construction, charges, the set path and whole-cache operations (the read path is
// cache_read.cpp, making room cache_evict.cpp).
#include "cache_core.hpp"

#include <mimalloc.h>

#include <algorithm>
#include <cstdlib>
#include <bit>
#include <thread>

#include "cache_hash.hpp"
#include "cache_shared.hpp"

namespace heapwise::api {
namespace {

// mimalloc 2.0 decommits freed pages only after a delay (25 ms) and only when later activity
// touches the same segment, so a cleared cache would stay resident indefinitely (measured:
// 256 MiB freed, 0 returned). With a delay of 0 pages go back as they empty. This is a
// process-wide mimalloc setting: the user's MIMALLOC_DECOMMIT_DELAY wins when set.
void return_freed_pages_promptly() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (std::getenv("MIMALLOC_DECOMMIT_DELAY") == nullptr) {
            mi_option_set(mi_option_decommit_delay, 0);
        }
    });
}

}  // namespace

Deferred::Deferred(CacheCore& core, std::string_view reason)
    : core_(core), reason_(reason), events_(core.has_listener()) {}

void Deferred::event(const Entry* e, EvictCause cause, std::size_t bytes, bool to_disk) {
    if (events_) pending_.push_back({std::string(e->key()), cause, bytes, to_disk});
}

void Deferred::finish() noexcept {
    if (!unlinks_.empty() && core_.store_) {
        for (auto [hash, seq] : unlinks_) core_.store_->unlink_file(hash, seq);
    }
    unlinks_.clear();
    if (pending_.empty()) return;
    std::vector<Pending> pending = std::move(pending_);
    pending_.clear();
    auto listener = core_.listener();
    if (!listener || !*listener) return;
    for (const Pending& p : pending) {
        EvictionEvent ev{p.key, p.cause, p.bytes, p.to_disk,
                         p.cause == EvictCause::pressure ? reason_ : std::string_view()};
        try {
            (*listener)(ev);
        } catch (...) {  // a listener's failure must not undo the cache operation
        }
    }
}

CacheCore::CacheCore(CacheOptions options)
    : options_(std::move(options)), limit_(options_.max_memory) {
    unsigned n = options_.shards;
    if (n == 0) n = std::clamp(4 * std::max(1u, std::thread::hardware_concurrency()), 8u, 256u);
    shard_count_ = std::bit_ceil(n);
    shard_mask_ = shard_count_ - 1;
    reclaim::init();
    reader_counts_ = std::make_unique<ReaderCounts[]>(reclaim::kMaxReaders);
    shards_ = std::make_unique<Shard[]>(shard_count_);
    for (unsigned i = 0; i < shard_count_; ++i) shards_[i].lru.set_shards(shard_count_);
    if (options_.allocator == Allocator::mimalloc) return_freed_pages_promptly();
    if (options_.listener) set_listener(options_.listener);
    if (options_.max_disk > 0) {
        store_ = std::make_unique<SpillStore>(SpillOptions{options_.spill_dir, options_.name,
                                                           options_.persistent,
                                                           options_.max_disk});
        if (options_.persistent) recover_persistent();
    }
}

CacheCore::~CacheCore() {
    // No reader can be inside a cache being destroyed: drop everything, retired or not (values
    // that handles hold stay until their last handle goes).
    for (unsigned i = 0; i < shard_count_; ++i) {
        Shard& s = shards_[i];
        s.table.for_each([](Entry* e) { drop_cache_ref(e); });
        while (Entry* e = s.retired) {
            s.retired = reinterpret_cast<Entry*>(e->link.next);
            drop_cache_ref(e);
        }
    }
}

void CacheCore::retire(Shard& s, Entry* e) noexcept {
    e->list_stamp = reclaim::retire_epoch();
    e->link.next = reinterpret_cast<LruLink*>(s.retired);
    s.retired = e;
    ++s.retired_count;
    s.retired_bytes += e->charge();
    if (s.retired_count >= kRetireBatch || s.retired_bytes >= kRetireBytes) collect(s);
}

void CacheCore::collect(Shard& s) noexcept {
    if (s.retired == nullptr && !s.table.has_retired()) return;
    const std::uint64_t safe = reclaim::safe_before();
    Entry** p = &s.retired;
    while (Entry* e = *p) {
        if (e->list_stamp < safe) {
            *p = reinterpret_cast<Entry*>(e->link.next);
            --s.retired_count;
            s.retired_bytes -= e->charge();
            drop_cache_ref(e);
        } else {
            p = reinterpret_cast<Entry**>(&e->link.next);
        }
    }
    s.table.collect(safe);
}

std::int64_t CacheCore::now_ns() const {
    auto t = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int64_t CacheCore::deadline_for(std::chrono::nanoseconds ttl) const {
    if (ttl.count() <= 0) ttl = options_.default_ttl;
    return ttl.count() > 0 ? now_ns() + ttl.count() : 0;
}

std::int64_t CacheCore::expiry_unix_ns(std::int64_t deadline_ns) const {
    if (deadline_ns == 0) return 0;
    auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    return wall + (deadline_ns - now_ns());
}

std::size_t CacheCore::index_charge(std::size_t key_len) const noexcept {
    return allocation_size(Entry::block_size(key_len), options_.allocator) +
           EntryTable::kSlotCharge;
}

std::size_t CacheCore::entry_charge(std::size_t key_size, std::size_t value_size) const noexcept {
    if (Entry::fits_inline(value_size)) {
        return allocation_size(Entry::block_size(key_size, value_size), options_.allocator) +
               EntryTable::kSlotCharge;
    }
    return index_charge(key_size) + allocation_size(value_size, options_.allocator);
}

std::size_t CacheCore::disk_entry_charge(std::size_t key_size) const noexcept {
    return index_charge(key_size) + SpillStore::index_node_charge();
}

Entry* CacheCore::make_entry(std::string_view key, std::uint64_t hash,
                             std::span<const std::byte> view, Bytes* owned) {
    if (Entry::fits_inline(view.size())) {
        Entry* e = Entry::create(key, hash, options_.allocator, view);
        e->index_charge = static_cast<std::uint32_t>(index_charge(key.size()));
        e->value_charge = e->block_usable() + EntryTable::kSlotCharge - e->index_charge;
        return e;
    }
    Bytes copy;
    if (owned == nullptr) copy = Bytes(view, options_.allocator);  // before the block: no leak
    Entry* e = Entry::create(key, hash, options_.allocator);
    e->adopt_value(std::move(owned != nullptr ? *owned : copy));
    e->index_charge = static_cast<std::uint32_t>(e->block_usable() + EntryTable::kSlotCharge);
    e->value_charge = mem_usable(e->data, e->value_alloc);
    return e;
}

Entry* CacheCore::make_disk_entry(std::string_view key, std::uint64_t hash) {
    Entry* e = Entry::create(key, hash, options_.allocator);
    e->state = EntryState::disk;
    e->index_charge = static_cast<std::uint32_t>(e->block_usable() + EntryTable::kSlotCharge +
                                                 SpillStore::index_node_charge());
    return e;
}

void CacheCore::swap_in_locked(Shard& s, Entry* from, Entry* to) noexcept {
    to->deadline_ns = from->deadline_ns;  // before `to` is published: lock-free hits read them
    to->value_size = from->value_size;
    s.table.replace(from, to);
    const std::size_t old_charge = from->charge(), new_charge = to->charge();
    if (new_charge >= old_charge) {
        memory_bytes_.fetch_add(new_charge - old_charge, std::memory_order_relaxed);
    } else {
        memory_bytes_.fetch_sub(old_charge - new_charge, std::memory_order_relaxed);
    }
}

void CacheCore::set_listener(EvictionListener listener) {
    auto p = listener ? std::make_shared<const EvictionListener>(std::move(listener)) : nullptr;
    std::lock_guard lk(listener_mu_);
    has_listener_.store(p != nullptr, std::memory_order_relaxed);
    listener_ = std::move(p);
}

std::shared_ptr<const EvictionListener> CacheCore::listener() const {
    std::lock_guard lk(listener_mu_);
    return listener_;
}

void CacheCore::insert_locked(Shard& s, Entry* e) {
    s.table.insert(e);
    if (e->state == EntryState::disk) {
        ++s.disk_items;
    } else {
        // Placements take even stamps and leave the epoch odd, so a read after this placement
        // stamps a use strictly newer than it (no tie with the entry placed last).
        e->list_stamp = epoch_.fetch_add(2, std::memory_order_relaxed) + 1;
        e->set_use(e->list_stamp);
        s.lru.push_front(e);
        if (s.lru.back() == e) s.note_tail();  // the list was empty
        s.lru_bytes.fetch_add(e->value_charge, std::memory_order_relaxed);
        ++s.memory_items;
    }
    memory_bytes_.fetch_add(e->charge(), std::memory_order_relaxed);
}

void CacheCore::remove_locked(Shard& s, Entry* e, EvictCause cause, Deferred& d) {
    s.table.erase(e);
    switch (e->state) {
        case EntryState::memory: {
            const bool tail = s.lru.back() == e;
            s.lru.unlink(e);
            if (tail) s.note_tail();
            s.lru_bytes.fetch_sub(e->value_charge, std::memory_order_relaxed);
            --s.memory_items;
            d.event(e, cause, e->charge(), false);
            memory_bytes_.fetch_sub(e->charge(), std::memory_order_relaxed);
            retire(s, e);
            break;
        }
        case EntryState::spilling:  // the spilling thread sees `orphaned` and frees it
            --s.memory_items;
            d.event(e, cause, e->charge(), false);
            e->orphaned = true;
            break;
        case EntryState::disk:
            --s.disk_items;
            d.event(e, cause, e->disk.size, false);
            if (store_->index_remove(e->disk.seq)) d.unlink(e->hash, e->disk.seq);
            memory_bytes_.fetch_sub(e->charge(), std::memory_order_relaxed);
            retire(s, e);
            break;
    }
}

void CacheCore::set(std::string_view key, std::span<const std::byte> view, Bytes* owned,
                    const SetOptions& options) {
    const std::uint64_t h = hash_key(key);
    const std::int64_t deadline = deadline_for(options.ttl);
    const std::size_t limit = memory_limit();
    // The exact charge only matters near the limit: usable sizes exceed a request by well under
    // half, so an entry below half the limit fits whatever the allocator rounds to.
    const std::size_t rough = Entry::block_size(key.size(), view.size()) + EntryTable::kSlotCharge;
    const std::size_t charge =
        rough < limit / 2 ? rough
        : owned != nullptr && !Entry::fits_inline(view.size())
            ? index_charge(key.size()) + owned->usable_size()
            : entry_charge(key.size(), view.size());
    Deferred d(*this);
    bool to_disk = options.force_disk;
    if (!to_disk && charge > limit) {
        if (options_.oversize == Oversize::reject) {
            throw CacheError(CacheError::Code::too_big,
                             "heapwise::Cache: an entry of " + std::to_string(charge) +
                                 " bytes (key " + std::to_string(key.size()) + ", value " +
                                 std::to_string(view.size()) +
                                 ") is larger than the memory budget of " +
                                 std::to_string(limit) + " bytes (oversize = reject)");
        }
        to_disk = true;
    }
    if (to_disk) {
        if (set_on_disk(h, key, view, deadline, d)) return;
        if (charge > limit) {
            throw CacheError(CacheError::Code::too_big,
                             "heapwise::Cache: an entry of " + std::to_string(charge) +
                                 " bytes is larger than the memory budget of " +
                                 std::to_string(limit) +
                                 " bytes and cannot go to disk (spilling is off or the value "
                                 "exceeds max_disk)");
        }
        // force_disk without a usable disk: keep it in memory rather than lose it.
    }
    Entry* e = make_entry(key, h, view, owned);
    e->deadline_ns = deadline;
    Shard& s = shard_for(h);
    {
        std::lock_guard lk(s.mu);
        if (Entry* old = s.table.find(h, key)) remove_locked(s, old, EvictCause::replaced, d);
        try {
            insert_locked(s, e);
        } catch (...) {
            Entry::destroy(e);
            throw;
        }
    }
    if (memory_bytes() > limit) shrink_to(memory_limit(), EvictCause::spilled, true, d);
}

bool CacheCore::set_on_disk(std::uint64_t hash, std::string_view key,
                            std::span<const std::byte> value, std::int64_t deadline_ns,
                            Deferred& d) {
    if (!store_ || !store_->enabled() ||
        SpillStore::file_size_for(key.size(), value.size()) > store_->max_disk()) {
        return false;
    }
    auto w = store_->write(hash, key, value, expiry_unix_ns(deadline_ns));
    if (!w) return false;
    spills_.fetch_add(1, std::memory_order_relaxed);
    Entry* e = nullptr;
    try {
        e = make_disk_entry(key, hash);
    } catch (...) {
        store_->unlink_file(hash, w->seq);
        throw;
    }
    e->deadline_ns = deadline_ns;
    e->value_size = value.size();
    e->disk.seq = w->seq;
    e->disk.size = w->file_size;
    Shard& s = shard_for(hash);
    {
        std::lock_guard lk(s.mu);
        if (Entry* old = s.table.find(hash, key)) remove_locked(s, old, EvictCause::replaced, d);
        try {
            insert_locked(s, e);
        } catch (...) {
            Entry::destroy(e);
            d.unlink(hash, w->seq);
            throw;
        }
        store_->index_add(w->seq, hash, w->file_size);
    }
    enforce_disk_cap(d);
    if (memory_bytes() > memory_limit()) shrink_to(memory_limit(), EvictCause::spilled, true, d);
    return true;
}

bool CacheCore::erase(std::string_view key) {
    const std::uint64_t h = hash_key(key);
    Shard& s = shard_for(h);
    Deferred d(*this);
    std::lock_guard lk(s.mu);
    Entry* e = s.table.find(h, key);
    if (e == nullptr) return false;
    remove_locked(s, e, EvictCause::removed, d);
    return true;
}

bool CacheCore::contains(std::string_view key) {
    const std::uint64_t h = hash_key(key);
    Shard& s = shard_for(h);
    std::lock_guard lk(s.mu);
    const Entry* e = s.table.find(h, key);
    return e != nullptr && !expired(e);
}

void CacheCore::clear() {
    Deferred d(*this);
    for (unsigned i = 0; i < shard_count_; ++i) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        std::vector<Entry*> all;
        all.reserve(s.table.size());
        s.table.for_each([&](Entry* e) { all.push_back(e); });
        for (Entry* e : all) remove_locked(s, e, EvictCause::removed, d);
        s.table.reset();
        collect(s);  // cleared memory goes back now, not at the next batch
    }
}

void CacheCore::cleanup() {
    clear();
    if (store_) store_->remove_directory();
}

void CacheCore::close() noexcept {
    if (closed_.exchange(true)) return;
    set_listener(nullptr);
    try {
        if (store_ && options_.persistent) {
            Deferred d(*this);
            shrink_to(0, EvictCause::pressure, false, d);
            store_->close();
            return;
        }
        clear();
    } catch (...) {  // bad_alloc while tearing down: the destructor frees what is left
    }
    if (store_) {
        store_->remove_directory();
        store_->close();
    }
}

std::size_t CacheCore::lru_total() const noexcept {
    std::size_t total = 0;
    for (unsigned i = 0; i < shard_count_; ++i) {
        total += shards_[i].lru_bytes.load(std::memory_order_relaxed);
    }
    return total;
}

}  // namespace heapwise::api
