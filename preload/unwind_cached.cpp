// The cached backend: reuses the thread's previous stack when the program calls in again from
// the same place. The first program frame's return address R0 and its stack slot S0 are exact
// (the shim's own frames keep frame pointers). If (R0, S0) is frame j of the cached stack, the
// frames above j are still live when each cached slot still holds its return address (one word
// compare per frame: on x86-64 a return address sits at its frame's CFA - 8). Otherwise: one
// unw_backtrace, and now and then a refresh of the cache by a stepping unwind (exact CFAs, slow).
// Known limit: a frame that changed its size with alloca but kept the same SP and IP would pass.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <atomic>
#include <cstring>

#include "sys.hpp"
#include "unwind.hpp"

namespace heapwise::preload {
namespace {

constexpr int kCacheFrames = static_cast<int>(format::kMaxStackDepth);

struct Cache {
    std::uintptr_t ra[kCacheFrames];
    std::uintptr_t slot[kCacheFrames];
    int n;
    bool complete;  // n covers the whole stack, not just a prefix
    std::uint32_t epoch;
    std::uint32_t hits;    // since the last refresh
    std::uint32_t misses;  // since the last refresh
    std::uint32_t refresh_after;  // misses before a refresh may happen; grows while they do not pay
};

std::atomic<std::uint32_t> g_epoch{1};
[[gnu::tls_model("initial-exec")]] thread_local Cache* tls_cache = nullptr;

Cache* cache() noexcept {
    Cache* c = tls_cache;
    if (c == nullptr) [[unlikely]] {
        c = static_cast<Cache*>(sys::map_pages(sizeof(Cache)));
        if (c == nullptr) return nullptr;
        c->refresh_after = 32;
        tls_cache = c;
    }
    return c;
}

// Exact (return address, slot) pairs from a stepping unwind; the first `drop` are the shim's.
[[gnu::noinline]] void refresh(Cache* c, int drop, int max) noexcept {
    unw_context_t uc;
    unw_cursor_t cur;
    c->n = 0;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0) return;
    // This function's own frame is one more to drop.
    int skip = drop + 1;
    c->complete = false;
    for (;;) {
        if (unw_step(&cur) <= 0) {
            c->complete = true;
            break;
        }
        if (c->n == max) break;
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        if (ip == 0) break;
        if (skip > 0) {
            --skip;
            continue;
        }
        c->ra[c->n] = ip;
        c->slot[c->n] = sp - 8;
        ++c->n;
    }
    c->epoch = g_epoch.load(std::memory_order_relaxed);
    c->hits = 0;
    c->misses = 0;
}

}  // namespace

void reset_thread_unwind_cache() noexcept { g_epoch.fetch_add(1, std::memory_order_relaxed); }

int capture_cached(std::span<std::uintptr_t> out, int skip) noexcept {
    Cache* c = cache();
    if (c == nullptr) return capture_libunwind(out, skip + 1);
    // Walk the frame-pointer chain over this function and the `skip` shim frames above it.
    auto* fp = static_cast<std::uintptr_t*>(__builtin_frame_address(0));
    for (int i = 0; i < skip + 1; ++i) {
        const auto next = fp[0];
        if (next <= reinterpret_cast<std::uintptr_t>(fp) || (next & 7) != 0 ||
            next - reinterpret_cast<std::uintptr_t>(fp) > (1u << 20)) {
            return capture_libunwind(out, skip + 1);
        }
        fp = reinterpret_cast<std::uintptr_t*>(next);
    }
    const std::uintptr_t r0 = fp[1];
    const auto s0 = reinterpret_cast<std::uintptr_t>(fp + 1);
    if (c->epoch == g_epoch.load(std::memory_order_relaxed)) {
        for (int j = 0; j < c->n; ++j) {
            if (c->slot[j] < s0) continue;
            if (c->slot[j] > s0 || c->ra[j] != r0) break;
            int i = j + 1;
            while (i < c->n && *reinterpret_cast<const std::uintptr_t*>(c->slot[i]) == c->ra[i]) ++i;
            if (i != c->n) break;
            int n = c->n - j;
            if (n > static_cast<int>(out.size())) {
                n = static_cast<int>(out.size());
            } else if (!c->complete && n < static_cast<int>(out.size())) {
                break;  // the cache holds too few outer frames for this depth
            }
            std::memcpy(out.data(), c->ra + j, static_cast<std::size_t>(n) * sizeof(std::uintptr_t));
            ++c->hits;
            return n;
        }
    }
    // A refresh costs about 40 unw_backtrace calls: do it for an empty or stale cache, or when
    // misses clearly dominated the last window of refresh_after misses; back off while refreshed
    // caches keep missing.
    ++c->misses;
    const bool stale = c->n == 0 || c->epoch != g_epoch.load(std::memory_order_relaxed);
    bool do_refresh = stale;
    if (!stale && c->misses >= c->refresh_after) {
        do_refresh = c->misses > 2 * c->hits;
        if (do_refresh) {
            c->refresh_after = c->hits * 4 < c->misses ? (c->refresh_after < 65536 ? c->refresh_after * 2 : 65536) : 32;
        } else {
            c->hits = 0;  // the cache pays: start a new window
            c->misses = 0;
        }
    }
    if (do_refresh) {
        const int want = static_cast<int>(out.size()) + 64;
        refresh(c, skip + 1, want < kCacheFrames ? want : kCacheFrames);
        const int n = c->n < static_cast<int>(out.size()) ? c->n : static_cast<int>(out.size());
        std::memcpy(out.data(), c->ra, static_cast<std::size_t>(n) * sizeof(std::uintptr_t));
        return n;
    }
    const int n = capture_libunwind(out, skip + 1);
    asm volatile("" ::: "memory");
    return n;
}

}  // namespace heapwise::preload
