// The lock-free hit path's reclamation (api/cache_reclaim.hpp): an open read section holds back
// frees of what was retired after it began (but not in a forked child), a thread's reader
// record is given back when the thread exits, and readers copying values while writers replace,
// erase and evict them (entries retired and freed all the time) read only intact values. Run
// under ASan and TSan too.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "cache_reclaim.hpp"
#include "cache_test_util.hpp"

using namespace heapwise;
using namespace heapwise::literals;
using namespace std::chrono_literals;
namespace reclaim = heapwise::api::reclaim;

namespace {
unsigned records_taken() {
    unsigned n = 0;
    for (auto& r : reclaim::domain().records) n += r.taken.load() ? 1 : 0;
    return n;
}
}  // namespace

TEST_CASE("an open read section holds back what is retired after it began", "[cache]") {
    reclaim::init();  // membarrier where the kernel has it, as every cache does
    std::uint64_t tag = 0;
    {
        reclaim::ReadSection rs;
        REQUIRE(rs.ok());
        tag = reclaim::retire_epoch();
        // Everything tagged `tag` or later must wait while the section is open.
        REQUIRE(reclaim::safe_before() <= tag);
        REQUIRE(reclaim::safe_before() <= tag);
    }
    REQUIRE(reclaim::safe_before() > tag);  // closed: what was tagged then can go
}

TEST_CASE("a nested read section leaves the outer one's protection in place", "[cache]") {
    reclaim::ReadSection outer;
    REQUIRE(outer.ok());
    const std::uint64_t tag = reclaim::retire_epoch();
    {
        reclaim::ReadSection inner;
        REQUIRE(inner.ok());
    }
    REQUIRE(reclaim::safe_before() <= tag);
}

TEST_CASE("a thread's reader record is given back when the thread exits", "[cache]") {
    // The header's own domain (libheapwise.so keeps its copy private): the same code.
    { reclaim::ReadSection rs; REQUIRE(rs.ok()); }  // this thread holds a record from here on
    const unsigned before = records_taken();
    // More threads than there are records, one after another: each takes one and gives it back.
    for (unsigned i = 0; i < reclaim::kMaxReaders + 8; ++i) {
        bool ok = false;
        unsigned during = 0;
        std::thread([&] {
            reclaim::ReadSection rs;
            ok = rs.ok();
            during = records_taken();
        }).join();
        REQUIRE(ok);
        REQUIRE(during == before + 1);
    }
    REQUIRE(records_taken() == before);
}

TEST_CASE("a forked child is not held back by another thread's open read section",
          "[cache]") {
    reclaim::init();  // registers the fork handler, as every cache does
    std::atomic<bool> inside{false}, leave{false};
    std::thread reader([&] {
        reclaim::ReadSection rs;
        inside.store(true);
        while (!leave.load()) std::this_thread::sleep_for(1ms);
    });
    while (!inside.load()) std::this_thread::sleep_for(1ms);
    const std::uint64_t tag = reclaim::retire_epoch();
    REQUIRE(reclaim::safe_before() <= tag);  // the parent waits for that reader
    const pid_t pid = ::fork();
    if (pid == 0) {  // the reader does not exist here: nothing may wait for it
        ::_exit(reclaim::safe_before() > tag ? 0 : 1);
    }
    REQUIRE(pid > 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    leave.store(true);
    reader.join();
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("lock-free hits during constant replacement and eviction copy intact values",
          "[cache]") {
    // Memory only, small inline values, a budget of ~200 entries over 400 keys: nearly every
    // set replaces or evicts, so entries are retired and freed while readers copy them.
    Cache cache({.max_memory = 64_KiB, .max_disk = 0, .shards = 2});
    // 700 ms, and on a starved machine longer, until both counts are reached (30 s at most).
    const auto start = std::chrono::steady_clock::now();
    std::atomic<long> wrong{0}, hits{0}, sets{0};
    auto running = [&] {
        const auto elapsed = std::chrono::steady_clock::now() - start;
        return elapsed < 700ms || ((hits.load() <= 1000 || sets.load() <= 1000) && elapsed < 30s);
    };
    auto value_for = [](int k, unsigned version) {
        std::string v(100 + k % 50, static_cast<char>('a' + (k + version) % 26));
        std::memcpy(v.data(), &k, sizeof k);
        std::memcpy(v.data() + sizeof k, &version, sizeof version);
        return v;
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t) + 11);
            while (running()) {
                for (int i = 0; i < 128; ++i) {
                    const int k = static_cast<int>(rng() % 400);
                    const std::string key = "key" + std::to_string(k);
                    if (t == 0 || rng() % 4 == 0) {
                        cache.set(key, std::string_view(value_for(k, rng() % 1000)));
                        sets.fetch_add(1);
                    } else if (auto v = cache.get(key)) {
                        int got = -1;
                        unsigned version = 0;
                        if (v->size() >= 8) {
                            std::memcpy(&got, v->data(), sizeof got);
                            std::memcpy(&version, v->data() + sizeof got, sizeof version);
                        }
                        if (got != k || v->view() != value_for(k, version)) wrong.fetch_add(1);
                        hits.fetch_add(1);
                    }
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(wrong.load() == 0);
    REQUIRE(hits.load() > 1000);
    REQUIRE(sets.load() > 1000);
    const auto st = cache.stats();
    REQUIRE(st.evictions > 0);
    REQUIRE(cache.memory_bytes() <= 64_KiB);
    REQUIRE(st.hits >= static_cast<std::uint64_t>(hits.load()));
}
