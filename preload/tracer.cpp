// The recording hot path (what every hook does after or before the real allocator call) and
// start/stop. Hot code here must never allocate, lock, or make a system call in the common case:
// stack capture, one intern, one ring push. Rare work is in *_slow functions.
#include "tracer.hpp"

#include <errno.h>
#include <string.h>

#include <atomic>
#include <cmath>

#include "check.hpp"
#include "live.hpp"
#include "state.hpp"
#include "sys.hpp"
#include "unwind.hpp"

namespace heapwise::preload {

Global g;
[[gnu::tls_model("initial-exec")]] constinit thread_local ThreadState* tls_state = nullptr;
[[gnu::tls_model("initial-exec")]] constinit thread_local int tls_guard = 0;
#ifndef NDEBUG
[[gnu::tls_model("initial-exec")]] constinit thread_local int tls_recording = 0;
#endif

namespace {

constexpr std::uint32_t kInternalGeneration = 0xffffffffu;
std::atomic_flag g_lifecycle = ATOMIC_FLAG_INIT;
void* g_label_memory = nullptr;

class LifecycleLock {
public:
    LifecycleLock() noexcept {
        while (g_lifecycle.test_and_set(std::memory_order_acquire)) sys::yield();
    }
    ~LifecycleLock() { g_lifecycle.clear(std::memory_order_release); }
};

#ifndef NDEBUG
struct RecordingScope {
    RecordingScope() noexcept { tls_recording = 1; }
    ~RecordingScope() { tls_recording = 0; }
};
#else
struct RecordingScope {
    RecordingScope() noexcept {}  // user-provided: no unused-variable warning in release builds
    ~RecordingScope() {}
};
#endif

// Exponential interval with the configured mean: a Poisson process over allocated bytes.
std::int64_t next_sample_interval(ThreadState* ts) noexcept {
    ts->rng ^= ts->rng >> 12;
    ts->rng ^= ts->rng << 25;
    ts->rng ^= ts->rng >> 27;
    const std::uint64_t r = ts->rng * 0x2545F4914F6CDD1Dull;
    const double u = (static_cast<double>(r >> 11) + 1.0) * (1.0 / 9007199254740993.0);  // (0, 1]
    const double bytes = -std::log(u) * static_cast<double>(g.options.sample_interval);
    return static_cast<std::int64_t>(bytes) + 1;
}

[[gnu::noinline, gnu::cold]] ThreadState* thread_for_event_slow() noexcept {
    ThreadState* ts = tls_state;
    if (ts == kClosedThread) {
        // The thread's end was already recorded (its TSD destructors ran); what it does now
        // cannot go into its ring any more. Counted, never silent.
        g.lost_after_exit.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
#ifndef NDEBUG
    const int was_recording = tls_recording;
    tls_recording = 0;  // registration allocates (TSD, stack bounds): legitimately re-entrant
#endif
    ts = register_thread_slow();
#ifndef NDEBUG
    tls_recording = was_recording;
#endif
    return ts;
}

[[gnu::noinline, gnu::cold]] void seed_sampler_slow(ThreadState* ts) noexcept {
    ts->rng = (static_cast<std::uint64_t>(ts->tid) << 32) ^ sys::now_ns() ^ 0x9E3779B97F4A7C15ull;
    if (ts->rng == 0) ts->rng = 1;
    ts->bytes_until_sample = next_sample_interval(ts);
}

[[gnu::noinline, gnu::cold]] Event* wait_for_slot_slow(ThreadState* ts, EventKind kind,
                                                        std::uint64_t size) noexcept {
    const bool lossy = g.options.mode == format::Mode::kLossy;
    struct Waiting {  // tells the writer not to sleep between rounds
        Waiting() noexcept { g.waiting.fetch_add(1, std::memory_order_seq_cst); }
        ~Waiting() { g.waiting.fetch_sub(1, std::memory_order_relaxed); }
    } waiting;
    for (unsigned spin = 0; !lossy; ++spin) {
        if (Event* e = ts->ring.try_reserve()) return e;
        if (!writer_running() || g.recording.load(std::memory_order_relaxed) == 0) break;
        if (spin == 16) {
            // Still full after a short spin: the writer may be asleep between rounds; wake it
            // (one system call per full ring, never per event).
            g.writer_wake.fetch_add(1, std::memory_order_seq_cst);
            sys::futex_wake(&g.writer_wake);
        }
        if (spin < 64) {
            __builtin_ia32_pause();
        } else if (spin < 256) {
            sys::yield();
        } else {
            sys::sleep_ns(20'000);
        }
    }
    if (kind == EventKind::kAlloc) {
        ts->lost_allocs.fetch_add(1, std::memory_order_relaxed);
        ts->lost_bytes.fetch_add(size, std::memory_order_relaxed);
    } else if (kind == EventKind::kFree) {
        ts->lost_frees.fetch_add(1, std::memory_order_relaxed);
    }
    return nullptr;
}

// The producer half of the ordering protocol (writer.cpp has the other half): secure a slot,
// raise busy, read the clock, fill, publish, drop busy.
inline void push(ThreadState* ts, EventKind kind, std::uint64_t addr, std::uint64_t size,
                 std::uint32_t stack, std::uint8_t fn) noexcept {
    Event* e = ts->ring.try_reserve();
    if (e == nullptr) [[unlikely]] {
        e = wait_for_slot_slow(ts, kind, size);
        if (e == nullptr) return;
    }
    ts->ring.enter_busy();
    e->time_ns = sys::now_ns();
    e->addr = addr;
    e->size = size;
    e->stack = stack;
    e->kind = kind;
    e->fn = fn;
    e->reserved = 0;
    ts->ring.publish();
    ts->ring.leave_busy();
}

inline ThreadState* current_thread() noexcept {
    ThreadState* ts = tls_state;
    if (ts == nullptr || ts == kClosedThread) [[unlikely]] ts = thread_for_event_slow();
    return ts;
}

// skip: frames between this function's caller and the program's call site.
[[gnu::noinline]] void alloc_impl(void* p, std::size_t size, format::AllocFn fn, int skip) noexcept {
    ThreadState* ts = current_thread();
    if (ts == nullptr) return;
    if (g.options.mode == format::Mode::kSampled) {
        if (ts->rng == 0) [[unlikely]] seed_sampler_slow(ts);
        ts->bytes_until_sample -= static_cast<std::int64_t>(size);
        if (ts->bytes_until_sample > 0) return;
        ts->bytes_until_sample = next_sample_interval(ts);
        g.sampled.insert(reinterpret_cast<std::uintptr_t>(p));
    }
    if (tls_internal != 0) [[unlikely]] {  // the program's own bookkeeping: no unwinding
        push(ts, EventKind::kAlloc, reinterpret_cast<std::uintptr_t>(p), size, g.internal_stack,
             static_cast<std::uint8_t>(fn));
        return;
    }
    std::uintptr_t frames[format::kMaxStackDepth];
    const int n = capture(std::span(frames, g.options.depth), skip);
    const StackId id = g.stacks.intern(std::span<const std::uintptr_t>(frames, static_cast<std::size_t>(n)),
                                       g.generation.load(std::memory_order_relaxed));
    push(ts, EventKind::kAlloc, reinterpret_cast<std::uintptr_t>(p), size,
         static_cast<std::uint32_t>(id), static_cast<std::uint8_t>(fn));
}

bool free_impl(void* p, format::FreeFn fn) noexcept {
    ThreadState* ts = current_thread();
    if (ts == nullptr) return false;
    if (g.options.mode == format::Mode::kSampled && !g.sampled.erase(reinterpret_cast<std::uintptr_t>(p))) {
        return false;
    }
    push(ts, EventKind::kFree, reinterpret_cast<std::uintptr_t>(p), 0, 0, static_cast<std::uint8_t>(fn));
    return true;
}

}  // namespace

void Tracer::record_alloc(void* p, std::size_t size, format::AllocFn fn) noexcept {
    if (p == nullptr || g.recording.load(std::memory_order_relaxed) == 0) return;
    ReentryGuard guard;
    RecordingScope scope;
    alloc_impl(p, size, fn, 2);
    asm volatile("" ::: "memory");  // keep this frame: the skip count relies on it
}

void Tracer::record_free(void* p, format::FreeFn fn) noexcept {
    if (p == nullptr || g.recording.load(std::memory_order_relaxed) == 0) return;
    ReentryGuard guard;
    RecordingScope scope;
    free_impl(p, fn);
}

bool Tracer::record_realloc_begin(void* p, format::FreeFn fn) noexcept {
    if (p == nullptr || g.recording.load(std::memory_order_relaxed) == 0) return false;
    ReentryGuard guard;
    RecordingScope scope;
    return free_impl(p, fn);
}

void Tracer::record_realloc_end(void* old, void* q, std::size_t size, bool freed_recorded,
                                format::AllocFn fn) noexcept {
    if (g.recording.load(std::memory_order_relaxed) == 0) return;
    ReentryGuard guard;
    RecordingScope scope;
    if (q != nullptr) {
        alloc_impl(q, size, fn, 2);
        asm volatile("" ::: "memory");
        return;
    }
    if (!freed_recorded) return;
    if (g.options.mode == format::Mode::kSampled) g.sampled.insert(reinterpret_cast<std::uintptr_t>(old));
    if (ThreadState* ts = current_thread()) {
        push(ts, EventKind::kReallocFailed, reinterpret_cast<std::uintptr_t>(old), 0, 0, 0);
    }
}

int Tracer::snapshot(const char* label, format::MarkerSource source, std::uint64_t request) noexcept {
    if (g.recording.load(std::memory_order_relaxed) == 0) return -1;
    ReentryGuard guard;
    ThreadState* ts = current_thread();
    if (ts == nullptr) return -1;
    std::uint32_t slot = g.labels.put(label);
    for (int i = 0; slot == LabelSlab::kNoSlot && i < 2000 && writer_running(); ++i) {
        sys::sleep_ns(50'000);  // every slot waits for the writer: let it catch up
        slot = g.labels.put(label);
    }
    if (slot == LabelSlab::kNoSlot) return -1;
    push(ts, EventKind::kMarker, slot, request, 0, static_cast<std::uint8_t>(source));
    return 0;
}

void Tracer::snapshot_from_signal() noexcept {
    // Release: the writer's acquire exchange then sees this thread's earlier ring pushes.
    g.signal_snapshots.fetch_add(1, std::memory_order_release);
}

void Tracer::thread_named(pthread_t thread, const char* name) noexcept {
    if (g.recording.load(std::memory_order_relaxed) == 0 || name == nullptr) return;
    ReentryGuard guard;
    ThreadState* ts = current_thread();
    if (ts == nullptr) return;
    ThreadState* target = pthread_equal(thread, pthread_self()) ? ts : find_thread(thread);
    if (target == nullptr) return;
    char buf[16] = {};
    strncpy(buf, name, sizeof(buf) - 1);
    std::uint64_t words[2];
    std::memcpy(words, buf, sizeof(buf));
    push(ts, EventKind::kThreadName, words[0], words[1], target->index, 0);
}

void Tracer::modules_changed() noexcept {
    g.generation.fetch_add(1, std::memory_order_relaxed);
    reset_thread_unwind_cache();
    if (g.recording.load(std::memory_order_relaxed) == 0) return;
    ReentryGuard guard;
    if (ThreadState* ts = current_thread()) push(ts, EventKind::kModules, 0, 0, 0, 0);
}

void Tracer::modules_changing() noexcept {
    if (g.recording.load(std::memory_order_relaxed) == 0) return;
    ReentryGuard guard;
    ThreadState* ts = current_thread();
    if (ts == nullptr) return;
    push(ts, EventKind::kModules, 0, 0, 0, 0);
    const std::uint64_t t = sys::now_ns();  // after the event's own stamp
    for (int i = 0; i < 2000 && writer_running() && writer_through_ns() < t; ++i) sys::sleep_ns(200'000);
}

bool Tracer::active() noexcept { return g.recording.load(std::memory_order_relaxed) != 0; }

bool Tracer::start(const Options& options, const char* path) noexcept {
    ReentryGuard guard;
    LifecycleLock lock;
    if (g.recording.load(std::memory_order_relaxed) != 0 || writer_running()) return false;
    g.options = options;
    set_unwinder(options.unwinder);
    if (g_label_memory == nullptr) {
        g_label_memory = sys::map_pages(LabelSlab::kSlots * LabelSlab::kSlotBytes);
    }
    if (!g.stacks.init() || !g.labels.init(g_label_memory) ||
        (options.mode == format::Mode::kSampled && !g.sampled.init()) || !threads_init()) {
        LogLine() << "out of memory while starting; tracing is off";
        return false;
    }
    // The internal stack: no frames, under a generation dlclose never reaches, so no captured
    // stack (an empty capture included) shares its id.
    g.internal_stack = static_cast<std::uint32_t>(g.stacks.intern({}, kInternalGeneration));
    g.pid = sys::getpid();
    g.start_ns = sys::now_ns();
    g.start_unix_ns = sys::unix_ns();
    g.signal_snapshots.store(0, std::memory_order_relaxed);
    g.lost_after_exit.store(0, std::memory_order_relaxed);
    strncpy(g.path, path, sizeof(g.path) - 1);
    const int fd = sys::create_file(path);
    if (fd < 0) {
        LogLine() << "cannot create trace file " << path << ": " << strerror(errno)
                  << "; the program runs untraced";
        return false;
    }
    if (!writer_start(fd)) {  // it said why
        sys::close_fd(fd);
        return false;
    }
    g.recording.store(1, std::memory_order_release);
    return true;
}

void Tracer::stop(format::EndReason reason) noexcept {
    ReentryGuard guard;
    LifecycleLock lock;
    g.recording.store(0, std::memory_order_seq_cst);
    if (writer_running()) writer_stop(reason);
}

void lifecycle_lock_for_fork() noexcept {
    while (g_lifecycle.test_and_set(std::memory_order_acquire)) sys::yield();
}
void lifecycle_unlock_after_fork() noexcept { g_lifecycle.clear(std::memory_order_release); }

}  // namespace heapwise::preload
