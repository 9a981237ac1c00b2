// SharedBytes' reference counting and the process-wide count of values that only handles hold
// (see cache_shared.hpp). Handles may be released on any thread, after their cache is gone.
#include "cache_shared.hpp"

namespace heapwise {
namespace {

// Values (and their bytes) that left every cache but stay alive for handles. Written only when
// an entry leaves a cache while handled, and when such a value's last handle goes: never on a hit.
std::atomic<std::uint64_t> g_held_values{0}, g_held_bytes{0};

void note_held(std::size_t bytes) noexcept {
    g_held_values.fetch_add(1, std::memory_order_relaxed);
    g_held_bytes.fetch_add(bytes, std::memory_order_relaxed);
}
void note_freed(std::size_t bytes) noexcept {
    g_held_values.fetch_sub(1, std::memory_order_relaxed);
    g_held_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

std::atomic_ref<std::uint32_t> refs_of(api::Entry* e) noexcept {
    return std::atomic_ref<std::uint32_t>(e->refs);
}

}  // namespace

namespace api {

void drop_cache_ref_shared(Entry* e) noexcept {
    // Counted before the drop, so the last handle's note_freed never comes first.
    const std::size_t bytes = held_bytes(e);
    note_held(bytes);
    if (refs_of(e).fetch_sub(1, std::memory_order_acq_rel) == 1) {  // the handles went meanwhile
        note_freed(bytes);
        Entry::destroy(e);
    }
}

SharedBytes SharedAccess::adopt(Bytes&& value, Allocator alloc) {
    Entry* e = Entry::create({}, 0, alloc);
    e->adopt_value(std::move(value));
    e->refs = 0;  // acquire() adds the handle's; no cache holds this block
    note_held(held_bytes(e));
    return acquire(e);
}

}  // namespace api

void SharedBytes::retain() const noexcept {
    refs_of(static_cast<api::Entry*>(owner_)).fetch_add(1, std::memory_order_relaxed);
}

void SharedBytes::release() noexcept {
    auto* e = static_cast<api::Entry*>(owner_);
    owner_ = nullptr;
    // Release: this handle's reads of the value happen before whoever frees it.
    if (refs_of(e).fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The last reference was a handle's, so the cache had dropped its own (and counted it).
        note_freed(api::held_bytes(e));
        api::Entry::destroy(e);
    }
}

std::size_t SharedBytes::use_count() const noexcept {
    if (owner_ == nullptr) return 0;
    return refs_of(static_cast<api::Entry*>(owner_)).load(std::memory_order_relaxed);
}

HeldByHandles held_by_handles() noexcept {
    return {g_held_values.load(std::memory_order_relaxed),
            g_held_bytes.load(std::memory_order_relaxed)};
}

}  // namespace heapwise
