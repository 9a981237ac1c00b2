// Grouping and comparison of snapshots. Symbolization happens once per distinct stack (and the
// Symbolizer caches once per distinct address), so grouping costs the distinct stacks of the
// snapshot, whatever the number of events behind it.
#include "analyzer/replay/grouping.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>

namespace heapwise::analyzer {
namespace {

SiteFrame frame_of(const SymbolizedAddress& a, std::size_t i) {
    SiteFrame f;
    if (i < a.frames.size()) {
        f.function = a.frames[i].function;
        f.file = a.frames[i].file;
        f.line = a.frames[i].line;
    }
    f.module = a.module_name;
    f.text = describe(a, i);
    return f;
}

std::string key_of(GroupBy by, const SiteFrame& site, StackSymbols* symbols, StackId stack) {
    switch (by) {
        case GroupBy::kLineno:
            return site.file.empty() ? site.text : site.file + ":" + std::to_string(site.line);
        case GroupBy::kFunction: return site.function.empty() ? site.text : site.function;
        case GroupBy::kFile: return site.file.empty() ? site.text : site.file;
        case GroupBy::kModule: return site.module.empty() ? site.text : site.module;
        case GroupBy::kTraceback: {
            std::string key;
            for (const SiteFrame& f : symbols->folded(stack)) key += (key.empty() ? "" : "\n") + f.text;
            return key;
        }
        case GroupBy::kStack: break;
    }
    return "stack#" + std::to_string(static_cast<std::uint32_t>(stack));
}

std::uint64_t magnitude(std::int64_t v) noexcept {
    return v < 0 ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v)
                 : static_cast<std::uint64_t>(v);
}

std::int64_t difference(std::uint64_t now, std::uint64_t before) noexcept {
    return static_cast<std::int64_t>(now - before);  // two's complement: exact for real sizes
}

}  // namespace

StackSymbols::StackSymbols(const ReplayResult& trace, SymbolizerOptions options, FrameFolder folder)
    : trace_(trace), symbolizer_(trace.modules, std::move(options)), folder_(std::move(folder)) {}

MapGeneration StackSymbols::generation(StackId stack) const {
    const auto it = trace_.stack_generations.find(stack);
    return it != trace_.stack_generations.end() ? it->second : trace_.modules.generation();
}

SiteFrame StackSymbols::unknown(StackId stack) const {
    SiteFrame f;
    f.text = "stack#" + std::to_string(static_cast<std::uint32_t>(stack));
    return f;
}

const std::vector<SiteFrame>& StackSymbols::folded(StackId stack) {
    const auto hit = cache_.find(stack);
    if (hit != cache_.end()) return hit->second;
    std::vector<SiteFrame> out;
    const auto frames = trace_.stacks.frames(stack);
    if (!frames.empty()) {
        const MapGeneration gen = generation(stack);
        std::vector<const SymbolizedAddress*> symbolized;
        symbolized.reserve(frames.size());
        for (const std::uint64_t addr : frames) symbolized.push_back(&symbolizer_.symbolize(addr, gen));
        const FrameFolder::Site site = folder_.site(std::span<const SymbolizedAddress* const>(symbolized));
        for (std::size_t a = site.address; a < symbolized.size(); ++a) {
            const SymbolizedAddress& sa = *symbolized[a];
            const std::size_t n = std::max<std::size_t>(sa.frames.size(), 1);
            for (std::size_t i = a == site.address ? site.frame : 0; i < n; ++i) {
                out.push_back(frame_of(sa, i));
            }
        }
    }
    if (out.empty()) out.push_back(unknown(stack));
    return cache_.emplace(stack, std::move(out)).first->second;
}

const SiteFrame& StackSymbols::site(StackId stack) {
    const auto hit = sites_.find(stack);
    if (hit != sites_.end()) return hit->second;
    if (const auto f = cache_.find(stack); f != cache_.end()) {
        return sites_.emplace(stack, f->second.front()).first->second;
    }
    const auto frames = trace_.stacks.frames(stack);
    if (frames.empty()) return sites_.emplace(stack, unknown(stack)).first->second;
    // FrameFolder::site's scan, stopped at the first frame it does not fold; only a stack folded
    // to its last frame needs every address, and folded() handles that.
    const MapGeneration gen = generation(stack);
    for (const std::uint64_t addr : frames) {
        const SymbolizedAddress& sa = symbolizer_.symbolize(addr, gen);
        if (sa.frames.empty()) {
            if (!folder_.folds({}, sa.module_name)) return sites_.emplace(stack, frame_of(sa, 0)).first->second;
            continue;
        }
        for (std::size_t i = 0; i < sa.frames.size(); ++i) {
            if (!folder_.folds(sa.frames[i].function, sa.module_name)) {
                return sites_.emplace(stack, frame_of(sa, i)).first->second;
            }
        }
    }
    return sites_.emplace(stack, folded(stack).front()).first->second;
}

bool site_matches(const SiteFilter& filter, const SiteFrame& site) {
    switch (filter.target) {
        case SiteFilter::Target::kModule: return glob_match(filter.pattern, site.module);
        case SiteFilter::Target::kFile: return glob_match(filter.pattern, site.file);
        case SiteFilter::Target::kFunction:
            return function_matches(filter.pattern, site.function);
    }
    return false;
}

GroupedSnapshot group(const Snapshot& snapshot, GroupBy by, StackSymbols* symbols,
                      const GroupFilters& filters) {
    const bool filtering = !filters.include.empty() || !filters.exclude.empty();
    if (symbols == nullptr && (by != GroupBy::kStack || filtering)) {
        throw std::invalid_argument("grouping by " + std::string(to_string(by)) +
                                    (filtering ? " with filters" : "") + " needs symbols");
    }
    GroupedSnapshot out;
    out.by = by;
    out.point = snapshot.point;
    out.time_ns = snapshot.time_ns;
    out.estimated = snapshot.estimated;
    const auto& internal = snapshot.internal_stacks;
    for (const auto& [stack, usage] : snapshot.stacks) {
        if (usage.live_count == 0 && usage.allocs == 0) continue;
        // The program's own bookkeeping (tracer_live.h): never a site of its results.
        if (std::find(internal.begin(), internal.end(), stack) != internal.end()) continue;
        static const SiteFrame kNone{};
        const SiteFrame& site = symbols == nullptr ? kNone
                                : by == GroupBy::kTraceback ? symbols->folded(stack).front()
                                                            : symbols->site(stack);
        if (filtering) {
            auto match = [&](const SiteFilter& f) { return site_matches(f, site); };
            if (!filters.include.empty() &&
                std::none_of(filters.include.begin(), filters.include.end(), match)) {
                continue;
            }
            if (std::any_of(filters.exclude.begin(), filters.exclude.end(), match)) continue;
        }
        auto [it, inserted] = out.groups.try_emplace(key_of(by, site, symbols, stack));
        GroupEntry& g = it->second;
        if (inserted) {
            g.site = symbols ? site : SiteFrame{{}, {}, 0, {}, it->first};
            if (by == GroupBy::kTraceback) {
                for (const SiteFrame& f : symbols->folded(stack)) g.traceback.push_back(f.text);
            }
        }
        g.bytes += usage.live_bytes;
        g.count += usage.live_count;
        g.allocs += usage.allocs;
        g.temporary += usage.temporary;
        out.bytes += usage.live_bytes;
        out.count += usage.live_count;
    }
    return out;
}

std::vector<DiffRow> compare(const GroupedSnapshot& older, const GroupedSnapshot& newer,
                             const DiffOptions& options) {
    if (older.by != newer.by) {
        throw std::invalid_argument("cannot compare a snapshot grouped by " +
                                    std::string(to_string(older.by)) + " with one grouped by " +
                                    std::string(to_string(newer.by)));
    }
    std::vector<DiffRow> rows;
    for (const auto& [key, now] : newer.groups) {
        DiffRow r{key, now, now.bytes, 0, now.count, 0};
        const auto old = older.groups.find(key);
        const std::uint64_t old_bytes = old != older.groups.end() ? old->second.bytes : 0;
        const std::uint64_t old_count = old != older.groups.end() ? old->second.count : 0;
        r.size_diff = difference(now.bytes, old_bytes);
        r.count_diff = difference(now.count, old_count);
        rows.push_back(std::move(r));
    }
    for (const auto& [key, old] : older.groups) {
        if (newer.groups.contains(key)) continue;
        GroupEntry gone = old;
        gone.bytes = gone.count = 0;
        rows.push_back({key, gone, 0, -static_cast<std::int64_t>(old.bytes), 0,
                        -static_cast<std::int64_t>(old.count)});
    }
    std::erase_if(rows, [&](const DiffRow& r) {
        if (r.size == 0 && r.size_diff == 0 && r.count == 0 && r.count_diff == 0) return true;
        return options.min_growth > 0 &&
               (r.size_diff < 0 || static_cast<std::uint64_t>(r.size_diff) < options.min_growth);
    });
    std::sort(rows.begin(), rows.end(), [](const DiffRow& a, const DiffRow& b) {
        if (magnitude(a.size_diff) != magnitude(b.size_diff)) {
            return magnitude(a.size_diff) > magnitude(b.size_diff);
        }
        if (a.size != b.size) return a.size > b.size;
        if (magnitude(a.count_diff) != magnitude(b.count_diff)) {
            return magnitude(a.count_diff) > magnitude(b.count_diff);
        }
        return a.key < b.key;
    });
    if (options.top > 0 && rows.size() > options.top) rows.resize(options.top);
    return rows;
}

std::vector<DiffRow> statistics(const GroupedSnapshot& snapshot, const DiffOptions& options) {
    GroupedSnapshot nothing;
    nothing.by = snapshot.by;
    return compare(nothing, snapshot, options);
}

}  // namespace heapwise::analyzer
