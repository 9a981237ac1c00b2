// KeyCache and compare_live: the analyzer's grouping keys and row order over interned keys.
#include "live_grouping.hpp"

#include <algorithm>
#include <span>

namespace heapwise::api {
namespace {

constexpr std::uint32_t kDenseLimit = 1u << 24;

// analyzer/replay/grouping.cpp key_of, for the keys the detector offers.
std::string key_text(By by, const std::vector<analyzer::SiteFrame>& frames) {
    const analyzer::SiteFrame& site = frames.front();
    switch (by) {
        case By::lineno:
            return site.file.empty() ? site.text : site.file + ":" + std::to_string(site.line);
        case By::function: return site.function.empty() ? site.text : site.function;
        case By::file: return site.file.empty() ? site.text : site.file;
        case By::module: return site.module.empty() ? site.text : site.module;
        case By::traceback: break;
    }
    std::string key;
    for (const analyzer::SiteFrame& f : frames) {
        if (!key.empty()) key += '\n';
        key += f.text;
    }
    return key;
}

// analyzer/replay/grouping.cpp frame_of: logical frame i of a symbolized address.
analyzer::SiteFrame frame_of(const analyzer::SymbolizedAddress& a, std::size_t i) {
    analyzer::SiteFrame f;
    if (i < a.frames.size()) {
        f.function = a.frames[i].function;
        f.file = a.frames[i].file;
        f.line = a.frames[i].line;
    }
    f.module = a.module_name;
    f.text = analyzer::describe(a, i);
    return f;
}

std::uint64_t magnitude(std::int64_t v) noexcept {
    return v < 0 ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v)
                 : static_cast<std::uint64_t>(v);
}

}  // namespace

KeyCache::StackInfo& KeyCache::info(std::uint32_t stack) {
    if (stack < kDenseLimit) {
        if (stack >= dense_.size()) dense_.resize(std::max<std::size_t>(stack + 1, dense_.size() * 2));
        return dense_[stack];
    }
    return sparse_[stack];
}

// StackSymbols::folded (analyzer/replay/grouping.cpp), stopping after the site unless whole.
std::vector<analyzer::SiteFrame> KeyCache::frames(std::uint32_t stack, bool whole) {
    std::vector<analyzer::SiteFrame> out;
    const auto addrs = stacks_.frames(static_cast<analyzer::StackId>(stack));
    if (!addrs.empty()) {
        std::vector<const analyzer::SymbolizedAddress*> symbolized;
        symbolized.reserve(addrs.size());
        for (const std::uint64_t a : addrs) symbolized.push_back(&symbolizer_.symbolize(a));
        const analyzer::FrameFolder::Site site =
            folder_.site(std::span<const analyzer::SymbolizedAddress* const>(symbolized));
        for (std::size_t a = site.address; a < symbolized.size(); ++a) {
            const analyzer::SymbolizedAddress& sa = *symbolized[a];
            const std::size_t n = std::max<std::size_t>(sa.frames.size(), 1);
            for (std::size_t i = a == site.address ? site.frame : 0; i < n; ++i) {
                out.push_back(frame_of(sa, i));
                if (!whole) return out;
            }
        }
    }
    if (out.empty()) {
        analyzer::SiteFrame unknown;
        unknown.text = "stack#" + std::to_string(stack);
        out.push_back(std::move(unknown));
    }
    return out;
}

const KeyInfo* KeyCache::key(std::uint32_t stack, StackInfo& si, By by) {
    const auto slot = static_cast<std::size_t>(by);
    if (si.keys[slot] != nullptr) return si.keys[slot];
    const std::vector<analyzer::SiteFrame> frames = this->frames(stack, by == By::traceback);
    if (!si.site) si.site = std::make_unique<analyzer::SiteFrame>(frames.front());
    std::string text = key_text(by, frames);
    auto& table = interned_[slot];
    auto it = table.find(text);
    if (it == table.end()) {
        auto k = std::make_unique<KeyInfo>();
        k->key = text;
        k->site = frames.front();
        if (by == By::traceback) {
            for (const analyzer::SiteFrame& f : frames) k->traceback.push_back(f.text);
        }
        it = table.emplace(std::move(text), std::move(k)).first;
    }
    si.keys[slot] = it->second.get();
    return si.keys[slot];
}

LiveGrouped KeyCache::group(const std::vector<LiveSite>& sites, By by, bool estimated,
                            const analyzer::GroupFilters& filters) {
    const bool filtering = !filters.include.empty() || !filters.exclude.empty();
    LiveGrouped out;
    out.by = by;
    out.estimated = estimated;
    for (const LiveSite& s : sites) {
        if (s.live_count == 0 && s.allocs == 0) continue;
        StackInfo& si = info(s.stack);
        const KeyInfo* k = key(s.stack, si, by);
        if (filtering) {
            auto match = [&](const analyzer::SiteFilter& f) { return analyzer::site_matches(f, *si.site); };
            if (!filters.include.empty() &&
                std::none_of(filters.include.begin(), filters.include.end(), match)) {
                continue;
            }
            if (std::any_of(filters.exclude.begin(), filters.exclude.end(), match)) continue;
        }
        LiveGroup& g = out.groups[k];
        g.bytes += s.live_bytes;
        g.count += s.live_count;
    }
    return out;
}

std::vector<StatisticDiff> compare_live(const LiveGrouped* older, const LiveGrouped& newer) {
    struct Row {
        const KeyInfo* key;
        std::uint64_t size, count;
        std::int64_t size_diff, count_diff;
    };
    std::vector<Row> rows;
    rows.reserve(newer.groups.size());
    static const std::unordered_map<const KeyInfo*, LiveGroup> kNone;
    const auto& old = older != nullptr ? older->groups : kNone;
    for (const auto& [k, g] : newer.groups) {
        const auto o = old.find(k);
        const LiveGroup before = o != old.end() ? o->second : LiveGroup{};
        rows.push_back({k, g.bytes, g.count, static_cast<std::int64_t>(g.bytes - before.bytes),
                        static_cast<std::int64_t>(g.count - before.count)});
    }
    for (const auto& [k, g] : old) {
        if (newer.groups.contains(k)) continue;
        rows.push_back({k, 0, 0, -static_cast<std::int64_t>(g.bytes), -static_cast<std::int64_t>(g.count)});
    }
    std::erase_if(rows, [](const Row& r) {
        return r.size == 0 && r.size_diff == 0 && r.count == 0 && r.count_diff == 0;
    });
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (magnitude(a.size_diff) != magnitude(b.size_diff)) return magnitude(a.size_diff) > magnitude(b.size_diff);
        if (a.size != b.size) return a.size > b.size;
        if (magnitude(a.count_diff) != magnitude(b.count_diff)) return magnitude(a.count_diff) > magnitude(b.count_diff);
        return a.key->key < b.key->key;
    });
    std::vector<StatisticDiff> out;
    out.reserve(rows.size());
    for (const Row& r : rows) {
        StatisticDiff d;
        d.key = r.key->key;
        d.site = {r.key->site.function, r.key->site.file, r.key->site.line, r.key->site.module,
                  r.key->site.text};
        d.traceback = r.key->traceback;
        d.size = r.size;
        d.size_diff = r.size_diff;
        d.count = r.count;
        d.count_diff = r.count_diff;
        d.estimated = newer.estimated;
        d.has_diff = older != nullptr;
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace heapwise::api
