// The writer thread: merges the per-thread rings in timestamp order, encodes records, compresses
// and writes checksummed blocks (at least every flush interval, so a SIGKILL loses at most that),
// samples RSS, emits periodic and signal markers. It holds the re-entrancy guard for its whole
// life, blocks every signal, and uses only mmap'd memory.
//
// ORDERING RULE (how a free of X in thread A and a later malloc returning X in thread B stay in
// order): A stamps its free before calling the real free; B stamps its malloc after the real
// malloc returned X. The allocator hands X to B only after A released it, so on CLOCK_MONOTONIC
// (consistent across CPUs) t_free < t_malloc. The writer emits events in timestamp order, and
// only events it knows are complete: each round it does fence(seq_cst); w = now(); then for each
// ring waits while busy and reads head (acquire). A producer sets busy (seq_cst store) *before*
// reading its clock and clears it after publishing. If an event has t < w but the writer read
// busy == 0 from before that producer set it, the writer's clock read preceded the producer's
// clock read, so w <= t: a contradiction. Hence every event with t < w is visible, and emitting
// exactly those (merged by time; ties in one ring keep ring order) never puts B's malloc of X
// before A's free of X. Later events wait for the next round. The busy section is a few stores
// long and begins only after the producer secured its slot, so the writer never waits on a
// producer that waits on the writer.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <atomic>
#include <cstring>
#include <new>

#include "check.hpp"
#include "encoder.hpp"
#include "live.hpp"
#include "modules.hpp"
#include "state.hpp"
#include "sys.hpp"
#include "tracer.hpp"

namespace heapwise::preload {

void encode_process_info(BlockEncoder& enc, std::uint64_t tick_ns) noexcept;

namespace {

constexpr std::uint64_t kTickNs = 1000;  // microseconds in the file; the merge uses nanoseconds
constexpr std::size_t kBlockTarget = 512u << 10;
constexpr std::uint64_t kIdleSleepNs = 1'000'000;
constexpr std::uint64_t kBusySleepNs = 200'000;
constexpr std::uint64_t kBusyRound = 2048;  // a round this full means: go again at once

struct Cursor {
    ThreadState* ts;
    std::uint64_t pos;
    std::uint64_t end;  // first event not to emit this round
    bool final;         // the thread ended and its ring is drained after this round
};

struct Writer {
    BlockEncoder enc;
    TraceFileWriter file;
    ModuleMap modules;
    explicit Writer(env::Compression compression) noexcept : file(compression) {}
};

struct Control {
    Writer* w = nullptr;
    pthread_t thread{};
    std::atomic<int> running{0};
    std::atomic<int> stop_requested{0};
    std::atomic<int> done{0};
    format::EndReason reason = format::EndReason::kExit;
    int fd = -1;
    bool failed = false;
    Cursor* cursors = nullptr;
    std::size_t cursor_cap = 0;
    std::uint8_t* emitted = nullptr;  // one byte per stack id: its record is in the file
    std::size_t emitted_cap = 0;
    std::uint64_t last_flush_ns = 0, last_rss_ns = 0, last_period_ns = 0, last_rescan_ns = 0;
    std::uint64_t periods = 0;
    std::uint64_t rescan_cost_ns = 0;
    // 64 KiB regions of frames that a rescan did not explain (JIT code, a bogus frame-pointer
    // link), most recent last; only frames there wait for the rescan spacing.
    static constexpr unsigned kUnexplainedSlots = 16;
    std::uintptr_t unexplained[kUnexplainedSlots] = {};
    unsigned unexplained_count = 0;
    std::atomic<std::uint64_t> through_ns{0};
    StackId last_stack = StackId::kNone;
    std::uint64_t live_from = UINT64_MAX;  // this round's live_from_ns()
    // Snapshot signals counted before this round's clock read, and that clock (see round()).
    std::uint64_t round_signals = 0;
    std::uint64_t round_w = 0;
    std::atomic<std::uint64_t> events{0}, allocs{0}, frees{0}, bytes_allocated{0}, lost{0},
        stacks{0}, threads{0};
};
Control c;

// The counters are written by the writer thread only (others just read them): a relaxed load and
// store instead of a locked read-modify-write, which costs ~20 cycles per event each.
void bump(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
    a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

// A producer is busy for a few stores; it is still busy after a while only when it was
// preempted in between, and then spinning would take the CPU it needs to finish.
void wait_not_busy(const SpscRing& ring) noexcept {
    for (unsigned spin = 0; ring.busy(); ++spin) {
        if (spin < 128) {
            __builtin_ia32_pause();
        } else {
            sys::yield();
        }
    }
}

std::uint64_t ticks(std::uint64_t t_ns) noexcept {
    return t_ns > g.start_ns ? (t_ns - g.start_ns) / kTickNs : 0;
}

void fail(const char* what, int err) noexcept {
    if (c.failed) return;
    c.failed = true;
    g.recording.store(0, std::memory_order_relaxed);
    LogLine() << what << " " << g.path << ": " << strerror(err) << "; tracing stopped, the program goes on";
}

void flush_block() noexcept {
    if (c.w->enc.empty() || c.failed) {
        c.w->enc.reset();
        return;
    }
    if (!c.w->enc.ok()) {
        fail("out of memory encoding", ENOMEM);
    } else if (!c.w->file.write_block(c.w->enc.bytes())) {
        fail("cannot write trace file", c.w->file.error());
    }
    c.w->enc.reset();
    c.last_flush_ns = sys::now_ns();
}

bool unexplained_region(std::uintptr_t frame) noexcept {
    const unsigned n = c.unexplained_count < Control::kUnexplainedSlots ? c.unexplained_count
                                                                         : Control::kUnexplainedSlots;
    for (unsigned i = 0; i < n; ++i) {
        if (c.unexplained[i] == frame >> 16) return true;
    }
    return false;
}

void emit_stack(StackId id, std::uint64_t t) noexcept {
    const auto i = static_cast<std::uint32_t>(id);
    if (i == 0 || (i < c.emitted_cap && c.emitted[i] != 0)) return;
    if (i >= c.emitted_cap) {
        const std::size_t cap = (i + 1) * 2 > 65536 ? (i + 1) * 2 : 65536;
        void* p = c.emitted == nullptr ? sys::map_pages(cap) : sys::remap_pages(c.emitted, c.emitted_cap, cap);
        if (p == nullptr) return fail("out of memory for", ENOMEM);
        c.emitted = static_cast<std::uint8_t*>(p);
        c.emitted_cap = cap;
    }
    if (i == g.internal_stack) {
        // No frames to resolve or share; the sized record tells readers what the stack is.
        c.w->enc.stack(i, {});
        c.w->enc.internal_stack(i);
        c.emitted[i] = 1;
        bump(c.stacks, 1);
        return;
    }
    const auto frames = g.stacks.frames(id);
    // A frame outside every known executable mapping means a module appeared (dlopen, or the
    // loader's own NSS/iconv loads): rescan before the stack, so the module record precedes it.
    // A frame that no rescan explains (JIT code, a bogus frame-pointer link) would rescan
    // forever, so its 64 KiB region is remembered and frames there rescan only after a spacing of
    // 10 ms or 20 times a rescan's cost, whichever is longer (at most 5% of the writer's time).
    // A frame anywhere else (a library just loaded) rescans at once, so one JIT frame never
    // delays the module record of a later dlopen.
    bool unknown = false, urgent = false;
    for (const std::uintptr_t f : frames) {
        if (c.w->modules.covers(f - 1)) continue;
        unknown = true;
        if (!unexplained_region(f)) {
            urgent = true;
            break;
        }
    }
    if (unknown) {
        const std::uint64_t now = sys::now_ns();
        const std::uint64_t gap = c.rescan_cost_ns * 20 > 10'000'000 ? c.rescan_cost_ns * 20 : 10'000'000;
        if (urgent || now - c.last_rescan_ns > gap) {
            c.w->modules.rescan(c.w->enc, t);
            c.last_rescan_ns = sys::now_ns();
            c.rescan_cost_ns = c.last_rescan_ns - now;
            for (const std::uintptr_t f : frames) {
                if (!c.w->modules.covers(f - 1) && !unexplained_region(f)) {
                    c.unexplained[c.unexplained_count++ % Control::kUnexplainedSlots] = f >> 16;
                }
            }
        }
    }
    // Share the outer frames with the previous stack record when at least 4 match.
    std::size_t own = frames.size();
    std::uint64_t base = 0, base_from = 0;
    if (c.last_stack != StackId::kNone) {
        const auto prev = g.stacks.frames(c.last_stack);
        std::size_t k = 0;
        while (k < frames.size() && k < prev.size() &&
               frames[frames.size() - 1 - k] == prev[prev.size() - 1 - k]) {
            ++k;
        }
        if (k >= 4) {
            own = frames.size() - k;
            base = static_cast<std::uint64_t>(c.last_stack);
            base_from = prev.size() - k;
        }
    }
    c.w->enc.stack(i, frames.first(own), base, base_from);
    c.emitted[i] = 1;
    c.last_stack = id;
    bump(c.stacks, 1);
}

void emit_event(ThreadState* ts, const Event& e) noexcept {
    const std::uint64_t t = ticks(e.time_ns);
    BlockEncoder& enc = c.w->enc;
    switch (e.kind) {
        case EventKind::kAlloc:
            emit_stack(static_cast<StackId>(e.stack), t);
            enc.alloc(t, ts->index, e.addr, e.size, e.stack, static_cast<format::AllocFn>(e.fn));
            if (e.time_ns >= c.live_from) live_writer_event(ts, e);
            bump(c.allocs, 1);
            bump(c.bytes_allocated, e.size);
            break;
        case EventKind::kFree:
            enc.free(t, ts->index, e.addr, static_cast<format::FreeFn>(e.fn));
            if (e.time_ns >= c.live_from) live_writer_event(ts, e);
            bump(c.frees, 1);
            break;
        case EventKind::kReallocFailed:
            enc.realloc_failed(t, ts->index, e.addr);
            if (e.time_ns >= c.live_from) live_writer_event(ts, e);
            break;
        case EventKind::kMarker: {
            const auto slot = static_cast<std::uint32_t>(e.addr);
            enc.marker(t, ts->index, static_cast<format::MarkerSource>(e.fn), g.labels.get(slot));
            g.labels.release(slot);
            if (e.size != 0) live_writer_marker(e.size, e.time_ns, c.lost.load(std::memory_order_relaxed), true);
            break;
        }
        case EventKind::kThreadName: {
            char name[17] = {};
            std::memcpy(name, &e.addr, 8);
            std::memcpy(name + 8, &e.size, 8);
            enc.thread_name(t, e.stack, name);
            break;
        }
        case EventKind::kModules:
            c.w->modules.rescan(enc, t);
            c.last_rescan_ns = sys::now_ns();
            break;
    }
    bump(c.events, 1);
    if (enc.size() >= kBlockTarget) flush_block();
}

// After a failure nothing is written, but a marker's label slot goes back and a live snapshot
// waiting at it is told the writer cannot answer.
void skip_event(const Event& e) noexcept {
    if (e.kind != EventKind::kMarker) return;
    g.labels.release(static_cast<std::uint32_t>(e.addr));
    if (e.size != 0) live_writer_marker(e.size, e.time_ns, 0, false);
}

void emit_thread_start(ThreadState* ts) noexcept {
    char path[64] = "/proc/self/task/";
    char* p = path + std::strlen(path);
    char digits[16];
    int nd = 0;
    for (int tid = ts->tid; tid > 0 && nd < 15; tid /= 10) digits[nd++] = static_cast<char>('0' + tid % 10);
    while (nd > 0) *p++ = digits[--nd];
    std::memcpy(p, "/comm", 6);
    char name[64];
    long n = sys::read_file(path, name, sizeof(name));
    while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == '\0')) --n;
    c.w->enc.thread_start(ticks(ts->start_ns), ts->index, static_cast<std::uint64_t>(ts->tid),
                          std::string_view(name, n > 0 ? static_cast<std::size_t>(n) : 0));
    ts->start_emitted = true;
    bump(c.threads, 1);
}

void unlink_thread(ThreadState* ts) noexcept {
    ThreadState* head = ts;
    if (g.threads.compare_exchange_strong(head, ts->next, std::memory_order_acq_rel)) return;
    // Not the head (threads register only at the head; only the writer unlinks).
    for (ThreadState* p = g.threads.load(std::memory_order_acquire); p != nullptr; p = p->next) {
        if (p->next == ts) {
            p->next = ts->next;
            return;
        }
    }
}

// What a full ring made this thread drop since the last look, as one kLost record.
void emit_lost(ThreadState* ts, std::uint64_t t) noexcept {
    const std::uint64_t a = ts->lost_allocs.exchange(0, std::memory_order_relaxed);
    const std::uint64_t f = ts->lost_frees.exchange(0, std::memory_order_relaxed);
    const std::uint64_t b = ts->lost_bytes.exchange(0, std::memory_order_relaxed);
    if (a + f != 0) {
        c.w->enc.lost(t, ts->index, a, f, b);
        bump(c.lost, a + f);
    }
}

// One merge round; returns the number of events emitted.
std::uint64_t round(bool final) noexcept {
    // A signal counted here was raised before w is read below, so every event its thread made
    // before raising it has t < w and is emitted this round: the marker, written after the round,
    // follows them in the file. Counting the signals after the round instead could put a marker
    // before an allocation that preceded the signal.
    c.round_signals += g.signal_snapshots.exchange(0, std::memory_order_acquire);
#if defined(__SANITIZE_THREAD__)
    // TSan does not model fences; a seq_cst RMW is the same full barrier on x86.
    static std::atomic<int> fence_word{0};
    fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    const std::uint64_t w = final ? UINT64_MAX : sys::now_ns();
    c.round_w = w;
    c.live_from = live_from_ns();  // after w: see live_enable()
    std::size_t n = 0;
    for (ThreadState* ts = g.threads.load(std::memory_order_acquire); ts != nullptr; ts = ts->next) {
        if (n == c.cursor_cap) {
            const std::size_t cap = c.cursor_cap * 2;
            void* p = sys::remap_pages(c.cursors, c.cursor_cap * sizeof(Cursor), cap * sizeof(Cursor));
            if (p == nullptr) break;  // the rest wait for the next round
            c.cursors = static_cast<Cursor*>(p);
            c.cursor_cap = cap;
        }
        const bool closing = ts->closing.load(std::memory_order_acquire) != 0;
        wait_not_busy(ts->ring);
        const std::uint64_t head = ts->ring.head();
        std::uint64_t end = ts->ring.tail();
        while (end < head && ts->ring.at(end).time_ns < w) ++end;
        c.cursors[n++] = Cursor{ts, ts->ring.tail(), end, closing && end == head};
    }
    // Merge by time. The earliest cursor emits a run: all its events before the second
    // earliest cursor's next one (ties go to the cursor first in the list, as one event at a
    // time would), so the scan over the cursors is paid per run, not per event: one thread's
    // events come out in one tight loop.
    std::uint64_t emitted = 0;
    for (;;) {
        std::size_t best = n, second = n;
        std::uint64_t best_t = UINT64_MAX, second_t = UINT64_MAX;
        for (std::size_t i = 0; i < n; ++i) {
            const Cursor& cur = c.cursors[i];
            std::uint64_t t = UINT64_MAX;
            if (!cur.ts->start_emitted) {
                if (cur.ts->start_ns < w) t = cur.ts->start_ns;
            } else if (cur.pos < cur.end) {
                t = cur.ts->ring.at(cur.pos).time_ns;
            }
            if (t < best_t) {
                second = best;
                second_t = best_t;
                best = i;
                best_t = t;
            } else if (t < second_t) {
                second = i;
                second_t = t;
            }
        }
        if (best == n) break;
        Cursor& cur = c.cursors[best];
        if (!cur.ts->start_emitted) {
            emit_thread_start(cur.ts);
            continue;
        }
        const bool wins_ties = best < second;
        do {
            if (!c.failed) {
                emit_event(cur.ts, cur.ts->ring.at(cur.pos));
            } else {
                skip_event(cur.ts->ring.at(cur.pos));
            }
            ++cur.pos;
            ++emitted;
        } while (cur.pos < cur.end && (cur.ts->ring.at(cur.pos).time_ns < second_t ||
                                       (wins_ties && cur.ts->ring.at(cur.pos).time_ns == second_t)));
    }
    c.through_ns.store(w, std::memory_order_release);
    for (std::size_t i = 0; i < n; ++i) {
        Cursor& cur = c.cursors[i];
        cur.ts->ring.release_to(cur.pos);
        if (cur.final && cur.ts->start_emitted && (final || cur.ts->exit_ns < w)) {
            if (!c.failed) emit_lost(cur.ts, ticks(cur.ts->exit_ns));  // before the state is reused
            c.w->enc.thread_exit(ticks(cur.ts->exit_ns), cur.ts->index);
            unlink_thread(cur.ts);
            unmap_thread(cur.ts);
        }
    }
    return emitted;
}

// Records stamped by the writer itself, after a round: every event before `now` is out.
void writer_records(std::uint64_t now) noexcept {
    BlockEncoder& enc = c.w->enc;
    // Signal markers first, stamped with the round's w: after every event emitted this round,
    // before the next round's (the encoder clamps a time earlier than the last record's).
    const std::uint64_t signal_t = ticks(c.round_w < now ? c.round_w : now);
    for (; c.round_signals > 0; --c.round_signals) {
        enc.marker(signal_t, 0, format::MarkerSource::kSignal, "signal");
    }
    const std::uint64_t t = ticks(now);
    for (ThreadState* ts = g.threads.load(std::memory_order_acquire); ts != nullptr; ts = ts->next) {
        emit_lost(ts, t);
    }
    const std::uint64_t after_exit = g.lost_after_exit.exchange(0, std::memory_order_relaxed);
    if (after_exit != 0) {
        enc.lost(t, 0, 0, 0, 0);  // kind unknown: counted in End.lost_events
        bump(c.lost, after_exit);
    }
    const Options& o = g.options;
    if (o.snapshot_every_ns != 0 && now - c.last_period_ns >= o.snapshot_every_ns) {
        char label[32] = "every-";
        std::uint64_t v = ++c.periods;
        char digits[24];
        int nd = 0;
        do {
            digits[nd++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        std::size_t len = 6;
        while (nd > 0) label[len++] = digits[--nd];
        enc.marker(t, 0, format::MarkerSource::kPeriod, std::string_view(label, len));
        c.last_period_ns = now;
    }
    if (o.rss_interval_ns != 0 && now - c.last_rss_ns >= o.rss_interval_ns) {
        enc.rss(t, sys::rss_bytes());
        c.last_rss_ns = now;
    }
}

void* writer_main(void*) {
    tls_guard = 1;  // for good: nothing the writer does is the program's
    sys::block_all_signals();
    while (c.stop_requested.load(std::memory_order_acquire) == 0) {
        const std::uint64_t emitted = round(false);
        const std::uint64_t now = sys::now_ns();
        if (!c.failed) writer_records(now);
        if (!c.failed && now - c.last_flush_ns >= g.options.flush_interval_ns) flush_block();
        // Sleep between rounds unless a producer waits for room (it wakes us through the futex
        // word when it starts waiting) or the rings fill faster than a short sleep drains them.
        const std::uint32_t wake = g.writer_wake.load(std::memory_order_seq_cst);
        if (g.waiting.load(std::memory_order_seq_cst) == 0 && emitted < kBusyRound) {
            sys::futex_wait(&g.writer_wake, wake, emitted == 0 ? kIdleSleepNs : kBusySleepNs);
        }
    }
    // Final: hooks stopped recording before stop_requested was set; wait out in-flight pushes.
    round(true);
    if (!c.failed) {
        writer_records(sys::now_ns());
        EndRecord end;
        end.reason = c.reason;
        end.events = c.events.load();
        end.allocs = c.allocs.load();
        end.frees = c.frees.load();
        end.bytes_allocated = c.bytes_allocated.load();
        end.lost_events = c.lost.load();
        end.stacks = c.stacks.load();
        end.threads = c.threads.load();
        c.w->enc.end(ticks(sys::now_ns()), end);
        flush_block();
    }
    sys::close_fd(c.fd);
    c.fd = -1;
    c.done.store(1, std::memory_order_release);
    return nullptr;
}

}  // namespace

bool writer_start(int fd) noexcept {
    ReentryGuard guard;
    if (c.w == nullptr) {
        void* mem = sys::map_pages(sizeof(Writer));
        if (mem == nullptr) return false;
        c.w = new (mem) Writer(g.options.compression);
    } else {
        c.w->~Writer();
        c.w = new (c.w) Writer(g.options.compression);
    }
    if (c.cursors == nullptr) {
        c.cursor_cap = 256;
        c.cursors = static_cast<Cursor*>(sys::map_pages(c.cursor_cap * sizeof(Cursor)));
    }
    if (c.emitted != nullptr) std::memset(c.emitted, 0, c.emitted_cap);
    if (c.cursors == nullptr || !c.w->enc.ok() || !c.w->modules.init()) {
        LogLine() << "out of memory starting the writer; the program runs untraced";
        return false;
    }
    live_session_start(g.options.live,
                       g.options.mode == format::Mode::kSampled ? g.options.sample_interval : 0,
                       g.internal_stack);
    c.live_from = UINT64_MAX;
    c.fd = fd;
    c.failed = false;
    c.reason = format::EndReason::kExit;
    c.last_stack = StackId::kNone;
    c.unexplained_count = 0;
    c.periods = 0;
    for (auto* a : {&c.events, &c.allocs, &c.frees, &c.bytes_allocated, &c.lost, &c.stacks, &c.threads}) {
        a->store(0, std::memory_order_relaxed);
    }
    if (!c.w->file.open(fd)) {
        LogLine() << "cannot write trace file " << g.path << ": " << strerror(c.w->file.error())
                  << "; the program runs untraced";
        return false;
    }
    encode_process_info(c.w->enc, kTickNs);
    c.w->modules.rescan(c.w->enc, 0);
    c.last_rescan_ns = c.last_flush_ns = c.last_rss_ns = c.last_period_ns = sys::now_ns();
    c.round_signals = 0;
    if (!c.w->enc.ok() || !c.w->file.write_block(c.w->enc.bytes())) {
        // header, ProcessInfo and modules go to disk before the program goes on
        LogLine() << "cannot write trace file " << g.path << ": "
                  << strerror(c.w->enc.ok() ? c.w->file.error() : ENOMEM) << "; the program runs untraced";
        return false;
    }
    c.w->enc.reset();
    c.last_flush_ns = sys::now_ns();
    c.stop_requested.store(0, std::memory_order_relaxed);
    c.done.store(0, std::memory_order_relaxed);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256u << 10);
    const int rc = pthread_create(&c.thread, &attr, writer_main, nullptr);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        LogLine() << "cannot start the writer thread: " << strerror(rc) << "; the program runs untraced";
        return false;
    }
    c.running.store(1, std::memory_order_release);
    return true;
}

void writer_stop(format::EndReason reason) noexcept {
    if (c.running.load(std::memory_order_acquire) == 0) return;
    c.reason = reason;
    c.stop_requested.store(1, std::memory_order_release);
    // Bounded wait: a writer stuck on a dead disk must not hang the program's exit.
    for (int i = 0; i < 10'000 && c.done.load(std::memory_order_acquire) == 0; ++i) sys::sleep_ns(1'000'000);
    if (c.done.load(std::memory_order_acquire) != 0) {
        pthread_join(c.thread, nullptr);
    } else {
        pthread_detach(c.thread);
    }
    c.running.store(0, std::memory_order_release);
}

std::uint64_t writer_through_ns() noexcept { return c.through_ns.load(std::memory_order_acquire); }

bool writer_running() noexcept { return c.running.load(std::memory_order_acquire) != 0; }

void writer_forget_in_child() noexcept {
    // The writer thread does not exist in a fork child; its objects may be mid-update, so a new
    // session gets fresh ones and the inherited descriptor of the parent's file is closed.
    sys::close_fd(c.fd);
    c.fd = -1;
    c.w = nullptr;
    c.cursors = nullptr;
    c.emitted = nullptr;
    c.emitted_cap = 0;
    // A child of a process with live aggregation on has it on from the start of its own trace
    // (blocks it inherited are unknown to it, their frees ignored, as after a late enable).
    if (live_was_on()) g.options.live = true;
    live_forget_in_child();
    c.running.store(0, std::memory_order_relaxed);
    c.done.store(0, std::memory_order_relaxed);
}

TracerStats Tracer::stats() noexcept {
    TracerStats s;
    s.events = c.events.load(std::memory_order_relaxed);
    s.allocs = c.allocs.load(std::memory_order_relaxed);
    s.frees = c.frees.load(std::memory_order_relaxed);
    s.lost = c.lost.load(std::memory_order_relaxed);
    s.stacks = c.stacks.load(std::memory_order_relaxed);
    if (c.w != nullptr) {
        s.blocks = c.w->file.blocks_written();
        s.bytes_written = c.w->file.bytes_written();
    }
    return s;
}

}  // namespace heapwise::preload
