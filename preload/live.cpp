// The live view's protocol between program threads and the writer (tracer_live.h, live.hpp).
// A snapshot claims one of 64 request slots, records a kMarker (MarkerSource::kApi) whose Event
// carries the request (size = ticket << 8 | slot + 1), and sleeps on the slot's futex word. The
// writer meets the marker in merged time order, i.e. after every event stamped before it in any
// thread (writer.cpp's ordering rule), copies the per-stack figures into a fresh mapping, and
// publishes them with a CAS from this ticket's pending state, so a caller that gave up (writer
// stopped, new session) and a slot reused by another caller are never confused. No malloc.
#include "live.hpp"

#include <errno.h>

#include <atomic>
#include <type_traits>

#include "live_map.hpp"
#include "state.hpp"
#include "sys.hpp"
#include "tracer.hpp"

namespace heapwise::preload {

[[gnu::tls_model("initial-exec")]] constinit thread_local int tls_internal = 0;

namespace {

constexpr std::uint64_t kOff = UINT64_MAX;
constexpr std::uint64_t kEnabling = UINT64_MAX - 1;  // enable() between its CAS and its clock read
constexpr unsigned kSlots = 64;
constexpr std::uint32_t kFreeSlot = 0, kPending = 1, kDone = 2, kFailed = 3;  // low 2 bits
constexpr std::uint64_t kWaitNs = 10'000'000;  // futex timeout between checks of the writer

struct alignas(64) Request {
    std::atomic<std::uint32_t> state{kFreeSlot};  // ticket << 2 | status
    int err = 0;                                  // written by the writer before kFailed
    heapwise_live_snapshot result{};              // written by the writer before kDone
};

struct Live {
    LiveAggregator agg;                        // writer thread only
    std::atomic<std::uint64_t> from_ns{kOff};  // aggregation covers events stamped >= this
    std::atomic<std::uint32_t> session{0};
    std::atomic<std::uint32_t> next_ticket{1};
    Request requests[kSlots];
};
// Static destructors run at exit before the shim's own fini stops the writer (which may still
// be aggregating): nothing here may have one.
static_assert(std::is_trivially_destructible_v<Live>);
Live L;

void wake_writer() noexcept {
    g.writer_wake.fetch_add(1, std::memory_order_seq_cst);
    sys::futex_wake(&g.writer_wake);
}

}  // namespace

int live_enable() noexcept {
    if (g.recording.load(std::memory_order_acquire) == 0) {
        errno = ENOSYS;
        return -1;
    }
    // Claim first, read the clock after: a writer round that did not see the claim took its
    // bound w before our clock read, so no event it emits unaggregated is stamped after `now`
    // (the same argument as the ring's busy word, writer.cpp).
    std::uint64_t expected = kOff;
    if (!L.from_ns.compare_exchange_strong(expected, kEnabling, std::memory_order_seq_cst)) {
        return expected == 0 ? 1 : 0;
    }
    std::uint64_t now = sys::now_ns();
    if (now == 0) now = 1;  // 0 means "from the start of the trace"
    L.from_ns.store(now, std::memory_order_seq_cst);
    return 0;
}

std::uint64_t live_from_ns() noexcept {
#if defined(__SANITIZE_THREAD__)
    static std::atomic<int> fence_word{0};  // TSan does not model fences
    fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    std::uint64_t from = L.from_ns.load(std::memory_order_seq_cst);
    while (from == kEnabling) {  // a few instructions away from its store
        sys::yield();
        from = L.from_ns.load(std::memory_order_seq_cst);
    }
    return from;
}

int live_snapshot(const char* label, heapwise_live_snapshot* out) noexcept {
    if (out == nullptr) {
        errno = EINVAL;
        return -1;
    }
    if (g.recording.load(std::memory_order_acquire) == 0) {
        errno = ENOSYS;
        return -1;
    }
    if (tls_guard != 0) {
        // The writer thread, or a thread interrupted inside the shim: waiting for the writer
        // could wait on ourselves, and a second push would corrupt the interrupted one.
        errno = EDEADLK;
        return -1;
    }
    if (L.from_ns.load(std::memory_order_acquire) == kOff) {
        errno = EINVAL;
        return -1;
    }
    const std::uint32_t session = L.session.load(std::memory_order_acquire);
    std::uint32_t ticket = L.next_ticket.fetch_add(1, std::memory_order_relaxed) & 0x3fffffffu;
    if (ticket == 0) ticket = 1;
    const std::uint32_t pending = ticket << 2 | kPending;
    unsigned slot = kSlots;
    while (slot == kSlots) {
        for (unsigned i = 0; i < kSlots; ++i) {
            std::uint32_t free_state = kFreeSlot;
            if (L.requests[i].state.compare_exchange_strong(free_state, pending, std::memory_order_acquire)) {
                slot = i;
                break;
            }
        }
        if (slot != kSlots) break;
        if (!writer_running() || g.recording.load(std::memory_order_relaxed) == 0) {
            errno = ENOSYS;
            return -1;
        }
        sys::sleep_ns(100'000);  // 64 snapshots in flight: one finishes within a writer round
    }
    Request& r = L.requests[slot];
    const std::uint64_t request = std::uint64_t{ticket} << 8 | (slot + 1);
    if (Tracer::snapshot(label != nullptr ? label : "", format::MarkerSource::kApi, request) != 0) {
        r.state.store(kFreeSlot, std::memory_order_release);
        errno = ENOSYS;
        return -1;
    }
    wake_writer();  // it may sleep up to 1 ms between rounds
    for (;;) {
        const std::uint32_t s = r.state.load(std::memory_order_acquire);
        if (s == (ticket << 2 | kDone)) {
            *out = r.result;
            r.state.store(kFreeSlot, std::memory_order_release);
            return 0;
        }
        if (s == (ticket << 2 | kFailed)) {
            const int err = r.err;
            r.state.store(kFreeSlot, std::memory_order_release);
            errno = err;
            return -1;
        }
        if (!writer_running() || L.session.load(std::memory_order_acquire) != session) {
            // The writer is gone (or a new session wiped the rings): nobody will answer. The CAS
            // fails when the writer answered in between; then the next look takes the answer.
            std::uint32_t expected = pending;
            if (r.state.compare_exchange_strong(expected, kFreeSlot, std::memory_order_acq_rel)) {
                errno = ECANCELED;
                return -1;
            }
            continue;
        }
        sys::futex_wait(&r.state, s, kWaitNs);
    }
}

void live_release(heapwise_live_snapshot* snap) noexcept {
    if (snap != nullptr) live_release_sites(*snap);
}

int live_stack_frames(std::uint32_t stack, std::uintptr_t* frames, int max) noexcept {
    if (stack == 0 || stack > g.stacks.size()) return -1;
    if (stack == g.internal_stack) return 0;
    const auto f = g.stacks.frames(static_cast<StackId>(stack));
    const int n = static_cast<int>(f.size());
    for (int i = 0; frames != nullptr && i < n && i < max; ++i) frames[i] = f[static_cast<std::size_t>(i)];
    return n;
}

int internal_begin() noexcept { return tls_internal++; }

void internal_end(int token) noexcept { tls_internal = token > 0 ? token : 0; }

void live_session_start(bool from_start, std::uint64_t sample_interval, std::uint32_t internal_stack) noexcept {
    L.agg.reset(sample_interval, internal_stack);
    L.from_ns.store(from_start ? 0 : kOff, std::memory_order_release);
    L.session.fetch_add(1, std::memory_order_acq_rel);
}

bool live_was_on() noexcept { return L.from_ns.load(std::memory_order_acquire) != kOff; }

void live_forget_in_child() noexcept {
    L.agg.forget();  // the parent's writer may have been mid-update: leave its pages alone
    for (Request& r : L.requests) r.state.store(kFreeSlot, std::memory_order_relaxed);
}

void live_writer_event(ThreadState* ts, const Event& e) noexcept {
    switch (e.kind) {
        case EventKind::kAlloc: L.agg.on_alloc(ts->live_pending, e.addr, e.size, e.stack); break;
        case EventKind::kFree: {
            const auto fn = static_cast<format::FreeFn>(e.fn);
            L.agg.on_free(ts->live_pending, e.addr,
                          fn == format::FreeFn::kRealloc || fn == format::FreeFn::kReallocArray);
            break;
        }
        case EventKind::kReallocFailed: L.agg.on_realloc_failed(ts->live_pending, e.addr); break;
        default: break;
    }
}

void live_writer_marker(std::uint64_t request, std::uint64_t time_ns, std::uint64_t lost, bool ok) noexcept {
    const std::uint64_t slot = (request & 0xff) - 1;
    if (slot >= kSlots) return;
    const auto ticket = static_cast<std::uint32_t>(request >> 8);
    Request& r = L.requests[slot];
    std::uint32_t expected = ticket << 2 | kPending;
    if (r.state.load(std::memory_order_acquire) != expected) return;  // the caller gave up
    heapwise_live_snapshot snap{};
    int err = 0;
    const std::uint64_t from = L.from_ns.load(std::memory_order_acquire);
    if (!ok) {
        err = ECANCELED;
    } else if (from == kOff || from == kEnabling) {
        err = EINVAL;
    } else {
        snap.abi = HEAPWISE_LIVE_ABI;
        snap.pid = static_cast<std::uint32_t>(g.pid);
        snap.time_ns = time_ns;
        snap.since_ns = from;
        snap.sample_interval = g.options.mode == format::Mode::kSampled ? g.options.sample_interval : 0;
        snap.lost_events = lost;
        if (!L.agg.snapshot(snap)) err = ENOMEM;
    }
    r.result = snap;
    r.err = err;
    if (!r.state.compare_exchange_strong(expected, ticket << 2 | (err == 0 ? kDone : kFailed),
                                         std::memory_order_acq_rel)) {
        live_release_sites(snap);  // abandoned meanwhile
        return;
    }
    sys::futex_wake(&r.state);
}

}  // namespace heapwise::preload
