// CacheCore::get_or_load: at most one loader per key at a time. The first caller to miss runs
// the loader with no lock held; later callers of the same key wait on its shared future and get
// the same value, or the same exception (a throwing loader caches nothing).
#include "cache_core.hpp"
#include "cache_hash.hpp"

namespace heapwise::api {

Bytes CacheCore::get_or_load(std::string_view key, const std::function<Bytes()>& loader) {
    if (!loader) throw std::invalid_argument("heapwise::Cache::get_or_load: empty loader");
    if (auto hit = get(key)) return std::move(*hit);

    const std::uint64_t h = hash_key(key);
    Shard& s = shard_for(h);
    std::shared_ptr<LoadSlot> slot;
    bool leader = false;
    {
        std::lock_guard lk(s.mu);
        auto it = s.loading.find(std::string(key));
        if (it != s.loading.end()) {
            slot = it->second;
        } else {
            // Another loader may have finished between our miss and this lock.
            Entry* e = s.table.find(h, key);
            if (e != nullptr && e->state != EntryState::disk && !expired(e)) {
                mark_used(e);
                return Bytes(e->value(), options_.allocator);
            }
            slot = std::make_shared<LoadSlot>();
            slot->future = slot->promise.get_future().share();
            s.loading.emplace(std::string(key), slot);
            leader = true;
        }
    }
    if (!leader) return slot->future.get();  // copies; rethrows the loader's exception

    loads_.fetch_add(1, std::memory_order_relaxed);
    auto finish_slot = [&] {
        std::lock_guard lk(s.mu);
        s.loading.erase(std::string(key));
    };
    try {
        Bytes value = loader();
        set(key, value.span(), nullptr, SetOptions{});
        finish_slot();
        slot->promise.set_value(value);
        return value;
    } catch (...) {
        load_failures_.fetch_add(1, std::memory_order_relaxed);
        finish_slot();
        slot->promise.set_exception(std::current_exception());
        throw;
    }
}

}  // namespace heapwise::api
