// The process-wide list of live caches behind heapwise::shrink_all_caches. It holds weak
// references: a cache being destroyed concurrently is either skipped or kept alive (by the
// shared_ptr taken here) until its shrink finishes; no lock is held while shrinking.
#include <algorithm>
#include <mutex>
#include <vector>

#include "cache_core.hpp"
#include "cache_registry.hpp"

namespace heapwise::api {
namespace {

struct Registry {
    std::mutex mu;
    std::vector<std::weak_ptr<CacheCore>> caches;
};

Registry& registry() {
    static auto* r = new Registry;  // never destroyed: caches may outlive static destruction
    return *r;
}

}  // namespace

void register_cache(const std::shared_ptr<CacheCore>& core) {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    std::erase_if(r.caches, [](const auto& w) { return w.expired(); });
    r.caches.push_back(core);
}

void unregister_cache(const CacheCore* core) {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    std::erase_if(r.caches, [&](const auto& w) {
        auto p = w.lock();
        return !p || p.get() == core;
    });
}

}  // namespace heapwise::api

namespace heapwise {

std::size_t shrink_all_caches(std::string_view reason) {
    std::vector<std::shared_ptr<api::CacheCore>> live;
    {
        api::Registry& r = api::registry();
        std::lock_guard lk(r.mu);
        for (const auto& w : r.caches) {
            if (auto p = w.lock()) live.push_back(std::move(p));
        }
    }
    std::size_t total = 0;
    for (const auto& c : live) total += c->spill_all(reason);
    return total;
}

}  // namespace heapwise
