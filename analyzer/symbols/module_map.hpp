// The modules (executable, shared libraries) mapped into a traced process over time, and the
// lookup of a code address to (module, offset) as it was at a given moment. Modules come and go
// (dlopen/dlclose); a library unloaded and another loaded at the same address must each resolve
// the addresses recorded while it was there, so lookups take a generation (or a time).
// Not thread-safe; lookups after changes rebuild a sorted index once (amortized).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heapwise::analyzer {

// One PT_LOAD program header of a module, as the tracer recorded it.
struct LoadSegment {
    std::uint64_t vaddr = 0;   // p_vaddr in the ELF file
    std::uint64_t memsz = 0;   // p_memsz
    std::uint64_t offset = 0;  // p_offset
    std::uint8_t flags = 0;    // PF_X / PF_W / PF_R
};

// What a trace says about one loaded module: enough to find and check its file offline.
struct ModuleImage {
    std::string path;
    std::string build_id;  // raw bytes (not hex); empty when the tracer found none
    std::uint64_t load_bias = 0;  // runtime address = load_bias + ELF vaddr (0 for non-PIE exes)
    std::vector<LoadSegment> segments;
};

// Dense index of a module in one ModuleMap, never reused (a reloaded library gets a new one).
enum class ModuleIndex : std::uint32_t {};

// The state of the map after a number of changes: generation g sees every module added by the
// g-th change or earlier and not removed by then. Generation 0 is the empty map.
using MapGeneration = std::uint64_t;

// An address resolved against the map: offset is the ELF virtual address (address - load_bias),
// the value `addr2line -e module` takes and the one printed as module+0xoffset.
struct ModuleAddress {
    ModuleIndex module{};
    std::uint64_t offset = 0;
};

class ModuleMap {
public:
    // Adds a module under the caller's key (the trace's module id); returns its index. The
    // change happens at time_ns (any monotonic clock; only used by generation_at).
    ModuleIndex add(std::uint64_t key, ModuleImage image, std::uint64_t time_ns = 0);
    // Removes the module most recently added under key that is still loaded. Returns false
    // (and changes nothing) when no such module is loaded.
    bool remove(std::uint64_t key, std::uint64_t time_ns = 0);

    // The generation after the last change: what a stack recorded now must be resolved with.
    MapGeneration generation() const noexcept { return generation_; }
    // The generation in force at time_ns: the last change at or before that time.
    MapGeneration generation_at(std::uint64_t time_ns) const noexcept;

    // The module whose PT_LOAD segments held addr at generation gen, or nothing.
    std::optional<ModuleAddress> find(std::uint64_t addr, MapGeneration gen) const;
    std::optional<ModuleAddress> find(std::uint64_t addr) const { return find(addr, generation_); }

    const ModuleImage& image(ModuleIndex index) const { return entries_.at(raw(index)).image; }
    std::size_t size() const noexcept { return entries_.size(); }
    // Generations during which the module was loaded: [loaded_at, unloaded_at).
    MapGeneration loaded_at(ModuleIndex index) const { return entries_.at(raw(index)).added; }
    MapGeneration unloaded_at(ModuleIndex index) const { return entries_.at(raw(index)).removed; }

private:
    static constexpr MapGeneration kStillLoaded = ~MapGeneration{0};
    static std::uint32_t raw(ModuleIndex index) noexcept { return static_cast<std::uint32_t>(index); }

    struct Entry {
        std::uint64_t key = 0;
        ModuleImage image;
        MapGeneration added = 0;
        MapGeneration removed = kStillLoaded;
    };
    // One address range of one module's segment; sorted by low for lookups.
    struct Range {
        std::uint64_t low = 0;
        std::uint64_t high = 0;      // exclusive
        std::uint64_t max_high = 0;  // max of high over this and every earlier range
        std::uint32_t entry = 0;
    };
    void rebuild_index() const;

    std::vector<Entry> entries_;
    std::vector<std::uint64_t> change_times_;  // change_times_[g - 1]: time of the g-th change
    MapGeneration generation_ = 0;
    mutable std::vector<Range> ranges_;
    mutable bool dirty_ = false;
};

}  // namespace heapwise::analyzer
