// LiveMap and LiveAggregator (see live_map.hpp). The rules mirror HeapReplay line by line: an
// allocation of a still-live address replaces its block; a realloc's free is remembered per thread
// until that thread's next allocation or free, and a failed realloc restores it; sizes weigh by
// format::sample_weight. Any change here must change analyzer/replay/heap_replay.cpp too.
#include "live_map.hpp"

#include <cstring>

#include "heapwise/sampling.hpp"
#include "sys.hpp"

namespace heapwise::preload {
namespace {

constexpr unsigned kInitialLog2 = 16;       // 65,536 slots, 1.5 MiB reserved, touched as used
constexpr std::size_t kInitialStacks = 1u << 16;
// The sites' mapping starts with this header, so release needs nothing but the sites pointer.
struct SitesHeader {
    std::uint64_t magic;
    std::uint64_t bytes;
};
constexpr std::uint64_t kSitesMagic = 0x53544953564C5748ull;  // "HWLVSITS"
constexpr std::size_t kSitesOffset = 64;
static_assert(sizeof(SitesHeader) <= kSitesOffset);

std::uint64_t sub_floor(std::uint64_t a, std::uint64_t b) noexcept { return a - (b < a ? b : a); }

// Exact traces (interval 0) skip the floating-point path on every event.
inline format::SampleWeight weigh(std::uint64_t size, std::uint64_t interval) noexcept {
    return interval == 0 ? format::SampleWeight{size, 1} : format::sample_weight(size, interval);
}

}  // namespace

bool LiveMap::grow() noexcept {
    const unsigned log2 = slots_ == nullptr ? kInitialLog2 : 64 - shift_ + 1;
    const std::size_t n = std::size_t{1} << log2;
    auto* fresh = static_cast<Block*>(sys::map_pages(n * sizeof(Block)));
    if (fresh == nullptr) return false;
    Block* old = slots_;
    const std::size_t old_n = old == nullptr ? 0 : mask_ + 1;
    slots_ = fresh;
    mask_ = n - 1;
    shift_ = 64 - log2;
    for (std::size_t i = 0; i < old_n; ++i) {
        if (old[i].addr == 0) continue;
        std::size_t j = home(old[i].addr);
        while (slots_[j].addr != 0) j = (j + 1) & mask_;
        slots_[j] = old[i];
    }
    if (old != nullptr) sys::unmap_pages(old, old_n * sizeof(Block));
    return true;
}

bool LiveMap::insert(std::uint64_t addr, std::uint64_t size, std::uint32_t stack, Block* replaced) noexcept {
    // Load at most 1/2 before growing: linear probing stays short.
    if ((slots_ == nullptr || (count_ + 1) * 2 > mask_ + 1) && !grow()) {
        if (slots_ == nullptr || count_ + 1 > mask_) {
            failed_ = true;
            return false;
        }
    }
    std::size_t i = home(addr);
    for (; slots_[i].addr != 0; i = (i + 1) & mask_) {
        if (slots_[i].addr == addr) {
            if (replaced != nullptr) *replaced = slots_[i];
            slots_[i].size = size;
            slots_[i].stack = stack;
            return true;
        }
    }
    slots_[i] = Block{addr, size, stack, 0};
    ++count_;
    return false;
}

const LiveMap::Block* LiveMap::find(std::uint64_t addr) const noexcept {
    if (slots_ == nullptr || addr == 0) return nullptr;
    for (std::size_t i = home(addr); slots_[i].addr != 0; i = (i + 1) & mask_) {
        if (slots_[i].addr == addr) return &slots_[i];
    }
    return nullptr;
}

bool LiveMap::erase(std::uint64_t addr, Block* out) noexcept {
    const Block* hit = find(addr);
    if (hit == nullptr) return false;
    std::size_t i = static_cast<std::size_t>(hit - slots_);
    if (out != nullptr) *out = *hit;
    // Backward shift: pull later entries of the run into the hole when their home allows it.
    for (std::size_t j = (i + 1) & mask_; slots_[j].addr != 0; j = (j + 1) & mask_) {
        const std::size_t h = home(slots_[j].addr);
        // j may move to i when i lies cyclically in [h, j).
        const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
        if (movable) {
            slots_[i] = slots_[j];
            i = j;
        }
    }
    slots_[i].addr = 0;
    --count_;
    return true;
}

void LiveMap::destroy() noexcept {
    if (slots_ != nullptr) sys::unmap_pages(slots_, (mask_ + 1) * sizeof(Block));
    forget();
}

void LiveMap::forget() noexcept {
    slots_ = nullptr;
    mask_ = 0;
    shift_ = 64;
    count_ = 0;
    failed_ = false;
}

void LiveAggregator::reset(std::uint64_t sample_interval, std::uint32_t internal_stack) noexcept {
    destroy();
    interval_ = sample_interval;
    internal_ = internal_stack;
}

void LiveAggregator::destroy() noexcept {
    map_.destroy();
    if (usage_ != nullptr) sys::unmap_pages(usage_, usage_cap_ * sizeof(LiveUsage));
    forget();
}

void LiveAggregator::forget() noexcept {
    map_.forget();
    usage_ = nullptr;
    usage_cap_ = 0;
    usage_end_ = 0;
    listed_ = 0;
    failed_ = false;
}

LiveUsage* LiveAggregator::use_slow(std::uint32_t stack) noexcept {
    if (stack >= usage_cap_) {
        std::size_t cap = usage_cap_ == 0 ? kInitialStacks : usage_cap_;
        while (cap <= stack) cap *= 2;
        void* p = usage_ == nullptr
                      ? sys::map_pages(cap * sizeof(LiveUsage))
                      : sys::remap_pages(usage_, usage_cap_ * sizeof(LiveUsage), cap * sizeof(LiveUsage));
        if (p == nullptr) {
            failed_ = true;
            return nullptr;
        }
        usage_ = static_cast<LiveUsage*>(p);
        usage_cap_ = cap;
    }
    usage_end_ = std::size_t{stack} + 1;
    return &usage_[stack];
}

void LiveAggregator::add_live(std::uint64_t size, std::uint32_t stack) noexcept {
    if (internal(stack)) return;
    const format::SampleWeight w = weigh(size, interval_);
    if (LiveUsage* u = use(stack)) {
        u->live_bytes += w.bytes;
        u->live_count += w.count;
    }
}

void LiveAggregator::remove_live(std::uint64_t size, std::uint32_t stack) noexcept {
    if (internal(stack)) return;
    const format::SampleWeight w = weigh(size, interval_);
    if (LiveUsage* u = use(stack)) {
        u->live_bytes = sub_floor(u->live_bytes, w.bytes);
        u->live_count = sub_floor(u->live_count, w.count);
    }
}

void LiveAggregator::on_alloc(LivePending& thread, std::uint64_t addr, std::uint64_t size,
                              std::uint32_t stack) noexcept {
    thread.set = false;
    LiveMap::Block old{};
    if (map_.insert(addr, size, stack, &old)) remove_live(old.size, old.stack);  // its free was missed
    if (internal(stack)) return;
    LiveUsage* u = use(stack);  // after remove_live: a growth may move the table
    if (u == nullptr) return;
    const format::SampleWeight w = weigh(size, interval_);
    if (u->allocs == 0) ++listed_;  // a live block always has its allocation counted
    u->allocs += w.count;
    u->bytes_allocated += w.bytes;
    if (!map_.failed()) {
        u->live_bytes += w.bytes;
        u->live_count += w.count;
    }
}

void LiveAggregator::on_free(LivePending& thread, std::uint64_t addr, bool realloc) noexcept {
    thread.set = false;
    if (addr == 0) return;
    LivePending pending{addr, 0, 0, false, false};
    LiveMap::Block b{};
    if (map_.erase(addr, &b)) {  // unknown: allocated before aggregation began, or not sampled
        pending = {addr, b.size, b.stack, true, false};
        remove_live(b.size, b.stack);
    }
    if (realloc) {
        thread = pending;
        thread.set = true;
    }
}

void LiveAggregator::on_realloc_failed(LivePending& thread, std::uint64_t addr) noexcept {
    if (!thread.set || thread.addr != addr) return;
    if (thread.known && map_.find(addr) == nullptr) {
        map_.insert(addr, thread.size, thread.stack, nullptr);
        if (!map_.failed()) add_live(thread.size, thread.stack);
    }
    thread.set = false;
}

bool LiveAggregator::snapshot(heapwise_live_snapshot& out) const noexcept {
    out.live_bytes = out.live_count = out.nsites = 0;
    out.sites = nullptr;
    if (failed()) return false;
    // One pass over the stacks seen; the count of listed ones is kept as they appear.
    const std::size_t n = listed_;
    if (n == 0) return true;
    const std::size_t bytes = sys::page_round(kSitesOffset + n * sizeof(heapwise_live_site));
    auto* base = static_cast<std::uint8_t*>(sys::map_pages_populated(bytes));
    if (base == nullptr) return false;
    const SitesHeader header{kSitesMagic, bytes};
    std::memcpy(base, &header, sizeof(header));
    auto* sites = reinterpret_cast<heapwise_live_site*>(base + kSitesOffset);
    std::size_t k = 0;
    for (std::size_t id = 0; id < usage_end_ && k < n; ++id) {
        const LiveUsage& u = usage_[id];
        if (u.allocs == 0 || (internal_ != 0 && id == internal_)) continue;
        sites[k++] = heapwise_live_site{static_cast<std::uint32_t>(id), 0, u.live_bytes, u.live_count,
                                        u.allocs, u.bytes_allocated};
        out.live_bytes += u.live_bytes;
        out.live_count += u.live_count;
    }
    out.nsites = k;
    out.sites = sites;
    return true;
}

void live_release_sites(heapwise_live_snapshot& snap) noexcept {
    if (snap.sites != nullptr) {
        auto* base = reinterpret_cast<std::uint8_t*>(snap.sites) - kSitesOffset;
        SitesHeader header;
        std::memcpy(&header, base, sizeof(header));
        if (header.magic == kSitesMagic) sys::unmap_pages(base, header.bytes);
    }
    snap.sites = nullptr;
    snap.nsites = 0;
}

}  // namespace heapwise::preload
