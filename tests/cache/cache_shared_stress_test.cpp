// get_shared under concurrency: reader threads take handles, keep some for a while and hand some
// to another thread to drop, while writers set (values on both sides of the inline limit), erase,
// evict (a small budget, with and without spilling to disk) and clear. Every value read is
// checked against the bytes its header says it must have; at the end every handle is dropped and
// every byte is back (held_by_handles). Bounded to about a second here; the [.stress] version
// runs 20 s (`cache_tests "[shared_stress]"`; not selected by [cache]). Run under TSan and ASan.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;

namespace {

constexpr int kKeys = 64;

// "key:version:" then bytes that depend on both, 16 to ~3000 bytes long (crossing 2 KiB).
std::string make_value(int key, std::uint64_t version) {
    std::string v = std::to_string(key) + ":" + std::to_string(version) + ":";
    const std::size_t n = 16 + (version * 131 + static_cast<std::uint64_t>(key) * 17) % 3000;
    std::uint64_t x = version * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(key);
    while (v.size() < n) {
        x ^= x >> 13;
        x *= 0xff51afd7ed558ccdull;
        v.push_back(static_cast<char>(x >> 56));
    }
    return v;
}

// True when the value is exactly what make_value gives for the key and version in its header.
bool intact(int key, std::string_view v) {
    const auto a = v.find(':');
    if (a == std::string_view::npos || std::string_view(v.substr(0, a)) != std::to_string(key)) {
        return false;
    }
    const auto b = v.find(':', a + 1);
    if (b == std::string_view::npos) return false;
    const std::uint64_t version = std::stoull(std::string(v.substr(a + 1, b - a - 1)));
    return v == make_value(key, version);
}

struct Counts {
    std::atomic<std::uint64_t> reads{0}, hits{0}, bad{0}, handed{0};
};

void run(std::chrono::milliseconds duration, bool spill) {
    const HeldByHandles h0 = held_by_handles();
    TempDir dir;
    Counts counts;
    {
        Cache cache({.max_memory = 48_KiB, .max_disk = spill ? 4_MiB : 0, .spill_dir = dir.str(),
                     .shards = 4});
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> next_version{1};
        std::mutex hand_mu;
        std::vector<std::pair<int, SharedBytes>> handed;  // taken by one reader, dropped by another
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < 2; ++t) {  // writers
            threads.emplace_back([&, t] {
                std::mt19937 rng(t + 1);
                for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
                    const int k = static_cast<int>(rng() % kKeys);
                    const unsigned op = rng() % 100;
                    if (op < 80) {
                        const std::uint64_t v = next_version.fetch_add(1);
                        cache.set(std::to_string(k), std::string_view(make_value(k, v)));
                    } else if (op < 98) {
                        cache.erase(std::to_string(k));
                    } else if (t == 0 && n % 7 == 0) {
                        cache.clear();
                    }
                }
            });
        }
        for (unsigned t = 0; t < 3; ++t) {  // readers
            threads.emplace_back([&, t] {
                std::mt19937 rng(100 + t);
                std::deque<std::pair<int, SharedBytes>> kept;
                while (!stop.load(std::memory_order_relaxed)) {
                    const int k = static_cast<int>(rng() % kKeys);
                    auto h = cache.get_shared(std::to_string(k));
                    counts.reads.fetch_add(1, std::memory_order_relaxed);
                    if (!h) continue;
                    counts.hits.fetch_add(1, std::memory_order_relaxed);
                    if (!intact(k, h->view())) counts.bad.fetch_add(1);
                    const unsigned what = rng() % 16;
                    if (what < 4) {
                        kept.emplace_back(k, std::move(*h));  // hold a while, recheck later
                        if (kept.size() > 32) {
                            if (!intact(kept.front().first, kept.front().second.view())) {
                                counts.bad.fetch_add(1);
                            }
                            kept.pop_front();
                        }
                    } else if (what == 4) {
                        std::lock_guard lk(hand_mu);
                        if (!handed.empty()) {  // drop another thread's handle here
                            if (!intact(handed.back().first, handed.back().second.view())) {
                                counts.bad.fetch_add(1);
                            }
                            handed.pop_back();
                        }
                        handed.emplace_back(k, SharedBytes(*h));  // a copy crosses threads
                        counts.handed.fetch_add(1, std::memory_order_relaxed);
                    }
                }
                for (auto& [key, b] : kept) {
                    if (!intact(key, b.view())) counts.bad.fetch_add(1);
                }
            });
        }
        std::this_thread::sleep_for(duration);
        stop = true;
        for (auto& th : threads) th.join();
        // Handles still out (the hand-over list) outlive the cache.
        cache.clear();
        for (auto& [key, b] : handed) {
            if (!intact(key, b.view())) counts.bad.fetch_add(1);
        }
        REQUIRE(cache.stats().memory_bytes == 0);
        std::vector<std::pair<int, SharedBytes>> after_cache = std::move(handed);
        handed.clear();
        {
            Cache moved_out = std::move(cache);  // the cache goes before the last handles
        }
        for (auto& [key, b] : after_cache) {
            if (!intact(key, b.view())) counts.bad.fetch_add(1);
        }
    }
    INFO("reads " << counts.reads << ", hits " << counts.hits << ", handed over " << counts.handed);
    REQUIRE(counts.bad == 0);
    REQUIRE(counts.hits > 0);
    REQUIRE(counts.handed > 0);
    REQUIRE(held_by_handles().values == h0.values);
    REQUIRE(held_by_handles().bytes == h0.bytes);
}

}  // namespace

TEST_CASE("handles taken and dropped across threads while writers set, evict, erase and clear",
          "[cache][shared]") {
    run(std::chrono::milliseconds(700), false);
    run(std::chrono::milliseconds(700), true);
}

TEST_CASE("shared handles under concurrency, long run", "[.stress][shared_stress]") {
    run(std::chrono::seconds(10), false);
    run(std::chrono::seconds(10), true);
}
