// ModuleMap: modules kept forever with the generations they were loaded in, and one sorted
// range index over every segment ever mapped; a lookup filters the ranges holding the address by
// generation. Ranges of different generations may overlap (a library reloaded elsewhere, another
// loaded where one was), so the walk back from the upper bound stops on the running max of ends.
#include "analyzer/symbols/module_map.hpp"

#include <algorithm>
#include <utility>

namespace heapwise::analyzer {

ModuleIndex ModuleMap::add(std::uint64_t key, ModuleImage image, std::uint64_t time_ns) {
    ++generation_;
    change_times_.push_back(time_ns);
    Entry entry;
    entry.key = key;
    entry.image = std::move(image);
    entry.added = generation_;
    entries_.push_back(std::move(entry));
    dirty_ = true;
    return ModuleIndex{static_cast<std::uint32_t>(entries_.size() - 1)};
}

bool ModuleMap::remove(std::uint64_t key, std::uint64_t time_ns) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->key == key && it->removed == kStillLoaded) {
            ++generation_;
            change_times_.push_back(time_ns);
            it->removed = generation_;
            return true;
        }
    }
    return false;
}

MapGeneration ModuleMap::generation_at(std::uint64_t time_ns) const noexcept {
    // Changes are appended in trace order, so their times are non-decreasing.
    auto it = std::upper_bound(change_times_.begin(), change_times_.end(), time_ns);
    return static_cast<MapGeneration>(it - change_times_.begin());
}

void ModuleMap::rebuild_index() const {
    ranges_.clear();
    for (std::uint32_t i = 0; i < entries_.size(); ++i) {
        const ModuleImage& image = entries_[i].image;
        for (const LoadSegment& segment : image.segments) {
            if (segment.memsz == 0) continue;
            std::uint64_t low = image.load_bias + segment.vaddr;
            ranges_.push_back(Range{low, low + segment.memsz, 0, i});
        }
    }
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) {
        return a.low != b.low ? a.low < b.low : a.entry < b.entry;
    });
    std::uint64_t max_high = 0;
    for (Range& range : ranges_) {
        max_high = std::max(max_high, range.high);
        range.max_high = max_high;
    }
    dirty_ = false;
}

std::optional<ModuleAddress> ModuleMap::find(std::uint64_t addr, MapGeneration gen) const {
    if (dirty_) rebuild_index();
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                               [](std::uint64_t a, const Range& r) { return a < r.low; });
    while (it != ranges_.begin()) {
        --it;
        if (it->max_high <= addr) break;  // no range at or before this one reaches addr
        if (addr >= it->high) continue;
        const Entry& entry = entries_[it->entry];
        if (entry.added <= gen && gen < entry.removed) {
            return ModuleAddress{ModuleIndex{it->entry}, addr - entry.image.load_bias};
        }
    }
    return std::nullopt;
}

}  // namespace heapwise::analyzer
