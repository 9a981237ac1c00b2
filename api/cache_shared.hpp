// The reference count behind heapwise::SharedBytes. An entry's block (header, key, value) starts
// with one reference, the cache's, dropped when collect() frees what the cache retired or when
// the cache is destroyed; each handle adds one. A handle is taken inside a read section (or under
// the shard lock) on an entry the probe found, so it always precedes the cache's drop, which waits
// for every section open at the retirement (cache_reclaim.hpp). Values that only handles hold are
// counted process-wide (held_by_handles). Nothing here locks, does I/O or touches a shared line
// besides the entry's own.
#pragma once

#include <atomic>
#include <utility>

#include "cache_entry.hpp"
#include "heapwise/bytes.hpp"

namespace heapwise::api {

// What a value held only by handles keeps allocated: the entry's block and its own value block.
inline std::size_t held_bytes(const Entry* e) noexcept {
    return e->block_usable() + (e->external ? mem_usable(e->data, e->value_alloc) : 0);
}

// The cache's side when handles still hold e (cache_shared.cpp).
void drop_cache_ref_shared(Entry* e) noexcept;

// The cache's side: called where it would otherwise free e (after reclamation made it safe, so no
// new handle can appear). Frees e now, or leaves it to the last handle. No handle can be taken
// any more, so a count of 1 is final: the common case frees without an RMW or a call. Acquire
// pairs with the releases of handles dropped before.
inline void drop_cache_ref(Entry* e) noexcept {
    if (std::atomic_ref<std::uint32_t>(e->refs).load(std::memory_order_acquire) == 1) {
        Entry::destroy(e);
    } else {
        drop_cache_ref_shared(e);
    }
}

struct SharedAccess {
    // A new handle on e's value. e must be reachable by the caller: found in a table inside a
    // read section or under the shard lock. One relaxed increment: what orders it before the
    // cache's drop is the reclamation protocol, not this RMW.
    static SharedBytes acquire(Entry* e) noexcept {
        std::atomic_ref<std::uint32_t>(e->refs).fetch_add(1, std::memory_order_relaxed);
        SharedBytes b;
        b.data_ = e->data;
        b.size_ = e->value_size;
        b.owner_ = e;
        return b;
    }
    // The C ABI's reference (heapwise_value_t): a handle reduced to its owner, the count it
    // holds moving along, and back.
    static void* into_raw(SharedBytes&& b) noexcept {
        b.data_ = nullptr;
        b.size_ = 0;
        return std::exchange(b.owner_, nullptr);
    }
    static void release_raw(void* owner) noexcept {
        SharedBytes b;
        b.owner_ = owner;  // its destructor drops the reference
    }
    // A handle that owns `value` alone (a disk read not promoted into memory): its buffer is
    // taken over, not copied. Throws std::bad_alloc.
    static SharedBytes adopt(Bytes&& value, Allocator alloc);
};

}  // namespace heapwise::api
