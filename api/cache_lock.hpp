// ShardLock: the cache's per-shard mutex. Uncontended, lock and unlock are one inline atomic
// each (std::mutex goes through pthread_mutex_lock/unlock: about 55 instructions per hit,
// measured with callgrind); contended, a waiter spins briefly, then sleeps on a futex, so a
// preempted holder costs the waiters no CPU. Under ThreadSanitizer it is std::mutex, which TSan
// understands. Never held across I/O or a listener call (cache_core.hpp's rules).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace heapwise::api {

#if defined(__SANITIZE_THREAD__)
using ShardLock = std::mutex;
#else
// Drepper's three-state futex mutex ("Futexes Are Tricky", mutex #3): 0 free, 1 held, 2 held
// with (possible) sleepers; unlock wakes one sleeper only from state 2.
class ShardLock {
public:
    ShardLock() noexcept = default;
    ShardLock(const ShardLock&) = delete;
    ShardLock& operator=(const ShardLock&) = delete;

    void lock() noexcept {
        std::uint32_t c = 0;
        if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return;
        }
        lock_slow();
    }
    bool try_lock() noexcept {
        std::uint32_t c = 0;
        return state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                              std::memory_order_relaxed);
    }
    void unlock() noexcept {
        if (state_.exchange(0, std::memory_order_release) == 2) wake();
    }

private:
    [[gnu::noinline]] void lock_slow() noexcept {
        for (int i = 0; i < 64; ++i) {  // the holder is usually a few hundred cycles from done
            __builtin_ia32_pause();
            std::uint32_t c = 0;
            if (state_.load(std::memory_order_relaxed) == 0 &&
                state_.compare_exchange_weak(c, 1, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
                return;
            }
        }
        while (state_.exchange(2, std::memory_order_acquire) != 0) {
            ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, 2,
                      nullptr, nullptr, 0);
        }
    }
    [[gnu::noinline]] void wake() noexcept {
        ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1,
                  nullptr, nullptr, 0);
    }

    std::atomic<std::uint32_t> state_{0};
};
static_assert(sizeof(ShardLock) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);
#endif

}  // namespace heapwise::api
