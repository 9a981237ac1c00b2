// The baselines the cache benchmarks compare against: the LRU a user would write first, a
// std::list + std::unordered_map + one std::mutex, byte-bounded. BaselineLru stores strings and
// returns owned copies like heapwise::Cache::get; BaselineSharedLru stores
// std::shared_ptr<const std::string> and returns a copy of the pointer (taken under its mutex),
// the user's way to share values, to compare with Cache::get_shared. Shared by cache_bench (wall
// and CPU time) and cache_count (instructions and simulated cache misses under valgrind).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace heapwise_bench {

template <class V>
class BasicBaselineLru {
public:
    explicit BasicBaselineLru(std::size_t max_bytes) : max_bytes_(max_bytes) {}
    std::optional<V> get(const std::string& key) {
        std::lock_guard lk(mu_);
        auto it = map_.find(key);
        if (it == map_.end()) return std::nullopt;
        list_.splice(list_.begin(), list_, it->second);
        return it->second->second;
    }
    void set(const std::string& key, std::string value) {
        std::lock_guard lk(mu_);
        auto it = map_.find(key);
        if (it != map_.end()) {
            bytes_ -= cost(it->second->first, it->second->second);
            list_.erase(it->second);
            map_.erase(it);
        }
        list_.emplace_front(key, make(std::move(value)));
        map_.emplace(key, list_.begin());
        bytes_ += cost(key, list_.front().second);
        while (bytes_ > max_bytes_ && !list_.empty()) {
            auto& back = list_.back();
            bytes_ -= cost(back.first, back.second);
            map_.erase(back.first);
            list_.pop_back();
        }
    }

private:
    static V make(std::string&& v) {
        if constexpr (std::is_same_v<V, std::string>) {
            return std::move(v);
        } else {
            return std::make_shared<const std::string>(std::move(v));
        }
    }
    static std::size_t size_of(const std::string& v) { return v.size(); }
    // A shared value adds make_shared's control block (16 B) and the string object (32 B).
    static std::size_t size_of(const std::shared_ptr<const std::string>& v) { return v->size() + 48; }
    static std::size_t cost(const std::string& k, const V& v) {
        return 2 * k.size() + size_of(v) + 96;  // key twice (map and list), nodes and buckets
    }
    std::mutex mu_;
    std::size_t max_bytes_, bytes_ = 0;
    std::list<std::pair<std::string, V>> list_;
    std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> map_;
};

using BaselineLru = BasicBaselineLru<std::string>;
using BaselineSharedLru = BasicBaselineLru<std::shared_ptr<const std::string>>;

}  // namespace heapwise_bench
