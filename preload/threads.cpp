// Thread registry: a ThreadState (state + ring, one mapping) per thread that records, found by
// the writer on a lock-free list. A thread registers on its first event (slow path) and ends
// through a pthread TSD destructor that re-arms itself so it runs after the program's own TSD
// destructors; the writer then drains the ring, writes ThreadExit and keeps the state for reuse.
#include <errno.h>
#include <pthread.h>

#include <cstring>
#include <new>

#include "state.hpp"
#include "sys.hpp"
#include "unwind.hpp"

namespace heapwise::preload {
namespace {

// States of ended threads are kept for reuse, never unmapped: a reader of the list (find_thread)
// may still hold a pointer to one. The lock guards only this list, on registration and at a
// thread's end, never on the event path; the fork child resets it.
std::atomic_flag g_free_lock = ATOMIC_FLAG_INIT;
ThreadState* g_free_states = nullptr;

constexpr int kDestructorRounds = 3;  // glibc runs TSD destructors up to 4 times

void thread_ended(void* p) {
    auto* ts = static_cast<ThreadState*>(p);
    if (ts == nullptr) return;
    if (++ts->destructor_rounds < kDestructorRounds) {
        pthread_setspecific(g.thread_key, ts);  // come back after the others
        return;
    }
    const int saved = errno;
    ts->exit_ns = sys::now_ns();
    tls_state = kClosedThread;
    ts->closing.store(1, std::memory_order_release);
    errno = saved;
}

}  // namespace

bool threads_init() noexcept {
    if (!g.key_created) {
        if (pthread_key_create(&g.thread_key, thread_ended) != 0) return false;
        g.key_created = true;
    }
    // A new session (start after stop): keep the live threads' states, start their rings over.
    g.next_thread_index.store(0, std::memory_order_relaxed);
    ThreadState* keep = nullptr;
    for (ThreadState* ts = g.threads.load(std::memory_order_acquire); ts != nullptr;) {
        ThreadState* next = ts->next;
        if (ts->closing.load(std::memory_order_acquire) != 0) {
            unmap_thread(ts);
        } else {
            ts->ring.init(reinterpret_cast<Event*>(reinterpret_cast<char*>(ts) + sizeof(ThreadState)),
                          ts->ring.capacity());
            ts->index = g.next_thread_index.fetch_add(1, std::memory_order_relaxed);
            ts->start_ns = sys::now_ns();
            ts->start_emitted = false;
            ts->live_pending = LivePending{};  // a new trace: no realloc of the old one to undo
            ts->rng = 0;  // the sampler reseeds with this session's interval
            ts->next = keep;
            keep = ts;
        }
        ts = next;
    }
    g.threads.store(keep, std::memory_order_release);
    return true;
}

ThreadState* register_thread_slow() noexcept {
    ReentryGuard guard;
    const int saved = errno;
    const std::size_t ring = g.options.ring_size;
    const std::size_t bytes = sizeof(ThreadState) + ring * sizeof(Event);
    void* mem = nullptr;
    while (g_free_lock.test_and_set(std::memory_order_acquire)) sys::yield();
    for (ThreadState** p = &g_free_states; *p != nullptr; p = &(*p)->next) {
        if ((*p)->map_bytes == bytes) {
            mem = *p;
            *p = (*p)->next;
            break;
        }
    }
    g_free_lock.clear(std::memory_order_release);
    if (mem != nullptr) {
        static_cast<ThreadState*>(mem)->~ThreadState();
    } else {
        mem = sys::map_pages(bytes);
    }
    if (mem == nullptr) {
        errno = saved;
        return nullptr;
    }
    auto* ts = new (mem) ThreadState();
    ts->map_bytes = bytes;
    ts->ring.init(reinterpret_cast<Event*>(static_cast<char*>(mem) + sizeof(ThreadState)), ring);
    ts->tid = sys::gettid();
    ts->self = pthread_self();
    ts->index = g.next_thread_index.fetch_add(1, std::memory_order_relaxed);
    ts->start_ns = sys::now_ns();
    init_thread_stack_bounds();
    if (g.key_created) pthread_setspecific(g.thread_key, ts);
    ThreadState* head = g.threads.load(std::memory_order_relaxed);
    do {
        ts->next = head;
    } while (!g.threads.compare_exchange_weak(head, ts, std::memory_order_release,
                                              std::memory_order_relaxed));
    tls_state = ts;
    errno = saved;
    return ts;
}

void unmap_thread(ThreadState* ts) noexcept {
    while (g_free_lock.test_and_set(std::memory_order_acquire)) sys::yield();
    ts->next = g_free_states;
    g_free_states = ts;
    g_free_lock.clear(std::memory_order_release);
}

ThreadState* find_thread(pthread_t t) noexcept {
    for (ThreadState* ts = g.threads.load(std::memory_order_acquire); ts != nullptr; ts = ts->next) {
        if (ts->closing.load(std::memory_order_relaxed) == 0 && pthread_equal(ts->self, t)) return ts;
    }
    return nullptr;
}

void threads_reset_in_child() noexcept {
    // Other threads do not exist in the child; their states stay mapped (a small leak) because
    // the parent's writer may have been reading them mid-fork.
    ThreadState* self = tls_state;
    g_free_lock.clear(std::memory_order_relaxed);
    g.next_thread_index.store(0, std::memory_order_relaxed);
    if (self == nullptr || self == kClosedThread) {
        g.threads.store(nullptr, std::memory_order_release);
        return;
    }
    self->ring.init(reinterpret_cast<Event*>(reinterpret_cast<char*>(self) + sizeof(ThreadState)),
                    self->ring.capacity());
    self->tid = sys::gettid();
    self->index = g.next_thread_index.fetch_add(1, std::memory_order_relaxed);
    self->start_ns = sys::now_ns();
    self->start_emitted = false;
    self->live_pending = LivePending{};
    self->next = nullptr;
    g.threads.store(self, std::memory_order_release);
}

}  // namespace heapwise::preload
