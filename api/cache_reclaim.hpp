// Epoch-based reclamation for the cache's lock-free hit path. A reader announces the global
// epoch in its thread's record for the length of one lookup and copy; a writer that takes an
// entry block (with its value) or a table's slot array out of reach retires it with the epoch of
// that moment and frees it only once no record shows that epoch or an older one. Readers make a
// plain store (membarrier(2) PRIVATE_EXPEDITED on the reclaiming side orders it, the asymmetric
// fence of liburcu's "memb" flavour); without membarrier, or under TSan, the announce is a
// seq_cst exchange. Readers never block, allocate here or make system calls.
#pragma once

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace heapwise::api::reclaim {

// Threads reading at the same time beyond this many take the shard lock instead.
inline constexpr unsigned kMaxReaders = 256;

struct alignas(64) ReaderRecord {
    std::atomic<std::uint64_t> active{0};  // the epoch announced; 0 = not reading
    std::atomic<bool> taken{false};
};

struct Domain {
    std::atomic<std::uint64_t> epoch{2};
    std::atomic<unsigned> used{0};  // records ever taken: scans stop there
    // membarrier registered (by init(), before any cache exists): readers skip the fence.
    std::atomic<bool> asymmetric{false};
    ReaderRecord records[kMaxReaders];
};

// Constant-initialized and trivially destroyed: usable from any thread at any time, including
// threads that exit after static destructors ran.
inline constinit Domain g_domain;
inline Domain& domain() noexcept { return g_domain; }

// The calling thread's record index (-1: none yet). A plain initial-exec int, so a hit reads it
// with one instruction; ThreadRecord, touched only when a record is taken, releases it at exit.
[[gnu::tls_model("initial-exec")]] inline thread_local int tl_index = -1;
struct ThreadRecord {
    ~ThreadRecord() {
        if (tl_index >= 0) {
            g_domain.records[tl_index].taken.store(false, std::memory_order_release);
            tl_index = -1;
        }
    }
};
inline thread_local ThreadRecord tl_release;

[[gnu::noinline, gnu::cold]] inline int take_record() noexcept {
    Domain& d = domain();
    for (unsigned i = 0; i < kMaxReaders; ++i) {
        bool expected = false;
        if (!d.records[i].taken.load(std::memory_order_relaxed) &&
            d.records[i].taken.compare_exchange_strong(expected, true,
                                                       std::memory_order_acquire)) {
            unsigned used = d.used.load(std::memory_order_relaxed);
            while (used < i + 1 &&
                   !d.used.compare_exchange_weak(used, i + 1, std::memory_order_relaxed)) {
            }
            tl_index = static_cast<int>(i);
            (void)&tl_release;  // constructs it, so its destructor runs at thread exit
            return static_cast<int>(i);
        }
    }
    return -1;
}

// In a forked child only the forking thread exists: the other threads' records (perhaps
// announced mid-read at the fork) would hold back every free forever. Membarrier registration
// is inherited by the child.
inline void after_fork_in_child() noexcept {
    for (int i = 0; i < static_cast<int>(kMaxReaders); ++i) {
        if (i == tl_index) continue;
        g_domain.records[i].active.store(0, std::memory_order_relaxed);
        g_domain.records[i].taken.store(false, std::memory_order_relaxed);
    }
}

// Called by every cache's constructor: a cache's readers start after it, so they all see the
// final value of `asymmetric`.
inline void init() noexcept {
    static const bool once = [] {
        ::pthread_atfork(nullptr, nullptr, after_fork_in_child);
        return true;
    }();
    (void)once;
#if !defined(__SANITIZE_THREAD__)
    static const bool registered =
        ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    g_domain.asymmetric.store(registered, std::memory_order_relaxed);
#endif
}

// One read-side critical section: pointers loaded inside stay valid until it ends.
class ReadSection {
public:
    ReadSection() noexcept {
        int i = tl_index;
        if (i < 0 && (i = take_record()) < 0) return;
        Domain& d = domain();
        index_ = i;
        // Nested (a TTL clock that reads the cache, say): the outer section already protects.
        if (d.records[i].active.load(std::memory_order_relaxed) != 0) {
            nested_ = true;
            return;
        }
        rec_ = &d.records[i];
        const std::uint64_t e = d.epoch.load(std::memory_order_relaxed);
#if defined(__SANITIZE_THREAD__)
        rec_->active.exchange(e, std::memory_order_seq_cst);
#else
        if (d.asymmetric.load(std::memory_order_relaxed)) {
            rec_->active.store(e, std::memory_order_relaxed);
            std::atomic_signal_fence(std::memory_order_seq_cst);
        } else {
            rec_->active.exchange(e, std::memory_order_seq_cst);
        }
#endif
    }
    ~ReadSection() {
        if (rec_ != nullptr) rec_->active.store(0, std::memory_order_release);
    }
    ReadSection(const ReadSection&) = delete;
    ReadSection& operator=(const ReadSection&) = delete;
    bool ok() const noexcept { return rec_ != nullptr || nested_; }
    // The thread's record index (valid when ok()): owned by this thread alone until it exits.
    unsigned index() const noexcept { return static_cast<unsigned>(index_); }

private:
    ReaderRecord* rec_ = nullptr;  // set when this section announced (and must retract)
    int index_ = -1;
    bool nested_ = false;
};

// The writer's side. retire_epoch() tags what was just unlinked (call it after the unlinking
// stores); safe_before() returns an epoch such that everything tagged below it can be freed.
inline std::uint64_t retire_epoch() noexcept {
    // An RMW, not a load: it orders the unlinking stores before the tag (a full barrier; TSan
    // does not model standalone fences).
    return domain().epoch.fetch_add(0, std::memory_order_seq_cst);
}

inline std::uint64_t safe_before() noexcept {
    Domain& d = domain();
    const std::uint64_t now = d.epoch.fetch_add(1, std::memory_order_seq_cst) + 1;
#if !defined(__SANITIZE_THREAD__)
    if (d.asymmetric.load(std::memory_order_relaxed)) {
        ::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    }
#endif
    // The fetch_add above is a full barrier; seq_cst loads keep the scan after it.
    std::uint64_t min = now;
    const unsigned n = d.used.load(std::memory_order_seq_cst);
    for (unsigned i = 0; i < n; ++i) {
        const std::uint64_t a = d.records[i].active.load(std::memory_order_seq_cst);
        if (a != 0 && a < min) min = a;
    }
    return min;
}

}  // namespace heapwise::api::reclaim
