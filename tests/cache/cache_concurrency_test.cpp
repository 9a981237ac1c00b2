// Threads: get_or_load runs one loader per key and shares its result or exception; a bounded
// stress of set/get/erase/get_or_load on a spilling cache never returns wrong data and keeps
// the byte bound (also run under TSan by tools/test.sh). Only the main thread asserts.
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace cachetest;
using namespace std::chrono_literals;

TEST_CASE("get_or_load runs the loader once for concurrent callers", "[cache]") {
    Cache cache({.max_memory = 1_MiB, .max_disk = 0});
    constexpr int kThreads = 4;
    std::atomic<int> calls{0}, arrived{0};
    std::vector<std::string> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            arrived.fetch_add(1);
            Bytes v = cache.get_or_load("page", [&] {
                calls.fetch_add(1);
                // Stay busy until every caller has arrived, then a little longer.
                while (arrived.load() < kThreads) std::this_thread::sleep_for(1ms);
                std::this_thread::sleep_for(50ms);
                return Bytes(std::string_view("loaded once"));
            });
            results[t] = std::string(v.view());
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(calls.load() == 1);
    for (const auto& r : results) REQUIRE(r == "loaded once");
    auto st = cache.stats();
    REQUIRE(st.loads == 1);
    REQUIRE(st.items == 1);
    REQUIRE(cache.get_or_load("page", [] { return Bytes(std::string_view("again")); }).view() == "loaded once");
    REQUIRE(cache.stats().loads == 1);
}

TEST_CASE("a throwing loader reaches every waiter and caches nothing", "[cache]") {
    Cache cache({.max_memory = 1_MiB, .max_disk = 0});
    constexpr int kThreads = 3;
    std::atomic<int> calls{0}, arrived{0};
    std::vector<std::string> errors(kThreads);
    std::atomic<int> caught{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            arrived.fetch_add(1);
            try {
                cache.get_or_load("bad", [&]() -> Bytes {
                    calls.fetch_add(1);
                    while (arrived.load() < kThreads) std::this_thread::sleep_for(1ms);
                    std::this_thread::sleep_for(50ms);
                    throw std::runtime_error("upstream returned 503");
                });
            } catch (const std::runtime_error& e) {
                errors[t] = e.what();
                // Every waiter rethrows the same exception object, freed by whichever catch block
                // ends last; libstdc++'s refcount is invisible to TSan, so make the order visible.
                caught.fetch_add(1);
                while (caught.load() < kThreads) std::this_thread::yield();
            }
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(calls.load() == 1);
    for (const auto& e : errors) REQUIRE(e == "upstream returned 503");
    REQUIRE_FALSE(cache.contains("bad"));
    auto st = cache.stats();
    REQUIRE(st.loads == 1);
    REQUIRE(st.load_failures == 1);
    // The next call loads again.
    REQUIRE(cache.get_or_load("bad", [] { return Bytes(std::string_view("ok")); }).view() == "ok");
}

TEST_CASE("concurrent set/get/erase on a spilling cache never returns wrong data", "[cache]") {
    TempDir dir;
    // Small budget: entries constantly spill, reload and get promoted while others read.
    Cache cache({.max_memory = 256_KiB, .max_disk = 2_MiB, .spill_dir = dir.str(), .shards = 4});
    constexpr int kThreads = 4;
    const auto deadline = std::chrono::steady_clock::now() + 1500ms;
    std::atomic<long> wrong{0}, ops{0}, over_budget{0};
    auto value_for = [](int k, int version) {
        std::string v = "key" + std::to_string(k) + ":" + std::to_string(version) + ":";
        v.resize(static_cast<std::size_t>(200 + (k * 37) % 3000), static_cast<char>('a' + k % 26));
        return v;
    };
    auto valid = [&](int k, std::string_view v) {
        // Any version is fine, but it must be this key's value and intact.
        auto prefix = "key" + std::to_string(k) + ":";
        if (!v.starts_with(prefix)) return false;
        auto colon = v.find(':', prefix.size());
        if (colon == std::string_view::npos) return false;
        int version = std::stoi(std::string(v.substr(prefix.size(), colon - prefix.size())));
        return v == value_for(k, version);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            while (std::chrono::steady_clock::now() < deadline) {
                for (int i = 0; i < 64; ++i) {
                    int k = static_cast<int>(rng() % 300);
                    std::string key = "key" + std::to_string(k);
                    switch (rng() % 8) {
                        case 0:
                        case 1:
                            cache.set(key, std::string_view(value_for(k, static_cast<int>(rng() % 5))),
                                      {.force_disk = rng() % 10 == 0});
                            break;
                        case 2:
                            cache.erase(key);
                            break;
                        case 3: {
                            Bytes v = cache.get_or_load(key, [&] { return Bytes(std::string_view(value_for(k, 9))); });
                            if (!valid(k, v.view())) wrong.fetch_add(1);
                            break;
                        }
                        default:
                            if (auto v = cache.get(key); v && !valid(k, v->view())) wrong.fetch_add(1);
                    }
                    if (cache.memory_bytes() > 2 * cache.memory_limit()) over_budget.fetch_add(1);
                    ops.fetch_add(1);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(wrong.load() == 0);
    REQUIRE(over_budget.load() == 0);
    REQUIRE(ops.load() > 1000);
    auto st = cache.stats();
    REQUIRE(cache.memory_bytes() <= cache.memory_limit());  // quiescent: the bound is exact
    REQUIRE(st.spills > 0);
    REQUIRE(st.disk_hits > 0);
    REQUIRE(st.corrupt == 0);
    REQUIRE(st.disk_bytes <= 2_MiB);
    std::size_t present = 0;
    for (int k = 0; k < 300; ++k) present += cache.contains("key" + std::to_string(k));
    REQUIRE(present == st.items);
    REQUIRE(files_in(cache.spill_path()).size() == st.disk_items);
}
