// The registry of live caches that heapwise::shrink_all_caches walks (cache_registry.cpp).
#pragma once

#include <memory>

namespace heapwise::api {

class CacheCore;
void register_cache(const std::shared_ptr<CacheCore>& core);
void unregister_cache(const CacheCore* core);

}  // namespace heapwise::api
