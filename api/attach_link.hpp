// CacheLink: one cache attached to a MemoryMonitor (attach.cpp). It holds the cache's core
// weakly, so destroying (or moving) the Cache while attached leaves no dangling pointer: the
// link expires and the monitor drops it.
#pragma once

#include <chrono>
#include <memory>

#include "heapwise/monitor.hpp"

namespace heapwise::api {

class CacheCore;

class CacheLink {
public:
    // Throws std::invalid_argument for bad options or a moved-from cache.
    CacheLink(Cache& cache, const AttachOptions& options, const MonitorOptions& monitor);
    bool same(Cache& cache) const;
    bool expired() const { return core_.expired(); }
    // Runs on the monitor thread after each sample.
    void act(Level level, Level previous, const Reading& r, MonitorClock::time_point now);

private:
    std::string why(Level level, const Reading& r) const;
    void report(CacheAction::Kind kind, std::size_t bytes, std::size_t limit, std::string text);

    std::weak_ptr<CacheCore> core_;
    const CacheCore* id_;
    AttachOptions opt_;
    Metric metric_;
    bool bytes_mode_;
    double warning_, critical_;
    std::chrono::milliseconds repeat_;
    MonitorClock::time_point last_change_{};
    bool changed_ = false;  // last_change_ is valid
};

// malloc_trim(0) then mi_collect(true) (cleanup.cpp).
void trim_allocators() noexcept;
std::string format_bytes(double bytes);

}  // namespace heapwise::api
