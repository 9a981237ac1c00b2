// The recorder's shared state: per-thread state (ring, sampler, counters) and the process-wide
// globals the hooks, the writer and the lifecycle handlers share. Internal to the shim.
// Thread roles: a ThreadState is written by its thread (producer side) and read by the writer;
// globals are set by start/stop (under the lifecycle lock) and read everywhere.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "labels.hpp"
#include "live_map.hpp"
#include "options.hpp"
#include "ring.hpp"
#include "sampled_set.hpp"
#include "stack_table.hpp"

namespace heapwise::preload {

struct alignas(64) ThreadState {
    SpscRing ring;
    ThreadState* next = nullptr;            // registry list, pushed at the head with a CAS
    std::uint32_t index = 0;                // thread number in the trace
    int tid = 0;
    pthread_t self{};
    std::uint64_t start_ns = 0;
    std::uint64_t exit_ns = 0;
    std::atomic<std::uint32_t> closing{0};  // the thread has ended; set after its last event
    int destructor_rounds = 0;
    // Sampled mode: bytes until the next sample, and the generator behind the intervals.
    std::int64_t bytes_until_sample = 0;
    std::uint64_t rng = 0;
    // Lossy mode: what a full ring made us drop, taken by the writer with exchange().
    std::atomic<std::uint64_t> lost_allocs{0};
    std::atomic<std::uint64_t> lost_frees{0};
    std::atomic<std::uint64_t> lost_bytes{0};
    // Writer-only.
    bool start_emitted = false;
    LivePending live_pending;  // live aggregation: this thread's last realloc free
    std::size_t map_bytes = 0;
};

// The calling thread's state: nullptr before registration, kClosedThread after it ended.
inline ThreadState* const kClosedThread = reinterpret_cast<ThreadState*>(1);

struct Global {
    Options options;
    std::atomic<int> recording{0};       // hooks record while set
    std::atomic<ThreadState*> threads{nullptr};
    std::atomic<std::uint32_t> next_thread_index{0};
    std::atomic<std::uint32_t> generation{0};   // bumped by dlclose; part of the stack key
    std::atomic<std::uint64_t> signal_snapshots{0};
    std::atomic<std::uint64_t> lost_after_exit{0};  // events of threads after their end
    std::atomic<int> waiting{0};  // producers waiting for room in a full ring
    std::atomic<std::uint32_t> writer_wake{0};  // bumped (and futex-woken) when one starts waiting
    StackTable stacks;
    std::uint32_t internal_stack = 0;  // the id under which internal allocations are recorded
    LabelSlab labels;
    SampledSet sampled;
    int pid = 0;
    std::uint64_t start_ns = 0;
    std::uint64_t start_unix_ns = 0;
    pthread_key_t thread_key{};
    bool key_created = false;
    char path[4096] = "";
};

extern Global g;

// constinit: the compiler then knows no initialization function exists, so every access is one
// %fs-relative load with no call through a TLS wrapper (which GCC 12's UBSan instrumentation
// also miscompiles into a spurious null-pointer report).
[[gnu::tls_model("initial-exec")]] extern thread_local constinit ThreadState* tls_state;
[[gnu::tls_model("initial-exec")]] extern thread_local constinit int tls_guard;
#ifndef NDEBUG
[[gnu::tls_model("initial-exec")]] extern thread_local constinit int tls_recording;
#endif

// Makes the shim's own allocations and calls invisible to the hooks of this thread.
class ReentryGuard {
public:
    ReentryGuard() noexcept { ++tls_guard; }
    ~ReentryGuard() { --tls_guard; }
    ReentryGuard(const ReentryGuard&) = delete;
    ReentryGuard& operator=(const ReentryGuard&) = delete;
};

// threads.cpp
[[gnu::noinline, gnu::cold]] ThreadState* register_thread_slow() noexcept;
bool threads_init() noexcept;
// An ended thread's state goes to a free list for reuse (it stays mapped).
void unmap_thread(ThreadState* ts) noexcept;
ThreadState* find_thread(pthread_t t) noexcept;
// After fork in the child: only the calling thread survives; its ring is emptied.
void threads_reset_in_child() noexcept;

// writer.cpp
bool writer_start(int fd) noexcept;
void writer_stop(format::EndReason reason) noexcept;  // synchronous: the End record is on disk
bool writer_running() noexcept;
// Every event stamped before this time is in the file's buffers (the last round's w).
std::uint64_t writer_through_ns() noexcept;
void writer_forget_in_child() noexcept;

}  // namespace heapwise::preload
