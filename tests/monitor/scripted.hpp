// Test doubles for the monitor's injection points: a memory source whose readings the test sets
// (the monitor thread reads it), and a recorder of callback invocations for exact sequences.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "heapwise/monitor.hpp"

namespace hwtest {

// Readings against a fixed 1,000,000-byte limit, so percent == used / 10,000 exactly.
class ScriptedSource {
public:
    static constexpr std::uint64_t kLimit = 1000000;
    void set_percent(double p) { set_used(static_cast<std::uint64_t>(p * 10000.0 + 0.5)); }
    void set_used(std::uint64_t used) {
        std::lock_guard g(mu_);
        used_ = used;
    }
    void set_rss(std::uint64_t rss) {
        std::lock_guard g(mu_);
        rss_ = rss;
    }
    heapwise::MemoryStats operator()() {
        std::lock_guard g(mu_);
        heapwise::MemoryStats st;
        st.limit = kLimit;
        st.used = used_;
        st.percent = 100.0 * static_cast<double>(used_) / static_cast<double>(kLimit);
        st.system.total = kLimit;
        st.system.used = used_;
        st.process.rss = rss_;
        ++reads_;
        return st;
    }
    int reads() {
        std::lock_guard g(mu_);
        return reads_;
    }

private:
    std::mutex mu_;
    std::uint64_t used_ = 0;
    std::uint64_t rss_ = 0;
    int reads_ = 0;
};

struct Call {
    heapwise::Level level;
    std::uint64_t used;
    bool operator==(const Call&) const = default;
};

class Recorder {
public:
    heapwise::LevelCallback callback() {
        return [this](heapwise::Level l, const heapwise::MemoryStats& st) {
            std::lock_guard g(mu_);
            calls_.push_back({l, st.used});
        };
    }
    std::vector<heapwise::Level> levels() {
        std::lock_guard g(mu_);
        std::vector<heapwise::Level> out;
        for (auto& c : calls_) out.push_back(c.level);
        return out;
    }
    std::vector<Call> calls() {
        std::lock_guard g(mu_);
        return calls_;
    }
    std::size_t size() {
        std::lock_guard g(mu_);
        return calls_.size();
    }

private:
    std::mutex mu_;
    std::vector<Call> calls_;
};

}  // namespace hwtest
