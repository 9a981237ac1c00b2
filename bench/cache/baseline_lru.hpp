// The baseline the cache benchmarks compare against: the LRU a user would write first, a
// std::list + std::unordered_map + one std::mutex, byte-bounded, returning owned copies like
// heapwise::Cache::get. Shared by cache_bench (wall and CPU time) and cache_count (instructions
// and simulated cache misses under valgrind).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace heapwise_bench {

class BaselineLru {
public:
    explicit BaselineLru(std::size_t max_bytes) : max_bytes_(max_bytes) {}
    std::optional<std::string> get(const std::string& key) {
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
        list_.emplace_front(key, std::move(value));
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
    static std::size_t cost(const std::string& k, const std::string& v) {
        return 2 * k.size() + v.size() + 96;  // key twice (map and list), nodes and buckets
    }
    std::mutex mu_;
    std::size_t max_bytes_, bytes_ = 0;
    std::list<std::pair<std::string, std::string>> list_;
    std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> map_;
};

}  // namespace heapwise_bench
