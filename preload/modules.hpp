// The module map, kept by the writer thread from /proc/self/maps and the ELF files themselves.
// It never calls into the dynamic loader (no dl_iterate_phdr): an application thread may hold
// the loader lock while it waits for room in its ring, and the writer must never wait for it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "encoder.hpp"

namespace heapwise::preload {

class ModuleMap {
public:
    bool init() noexcept;
    void destroy() noexcept;
    // Reads the mappings again; writes ModuleLoad for new modules and ModuleUnload for gone ones,
    // stamped t (ticks). Returns false when /proc/self/maps cannot be read.
    bool rescan(BlockEncoder& enc, std::uint64_t t) noexcept;
    // Whether addr fell in an executable mapping at the last rescan.
    bool covers(std::uintptr_t addr) const noexcept;
    std::uint32_t loaded() const noexcept { return count_; }

private:
    struct Module {
        std::uint64_t id;
        std::uint64_t bias;
        std::uint64_t base;
        std::uint64_t inode;
        std::uint64_t dev;
        bool seen;
        char path[512];
    };
    struct Range {
        std::uintptr_t start;
        std::uintptr_t end;
    };
    static constexpr std::uint32_t kMaxModules = 4096;
    static constexpr std::uint32_t kMaxRanges = 16384;

    void add_module(BlockEncoder& enc, std::uint64_t t, const char* path, std::uint64_t base,
                    std::uint64_t inode, std::uint64_t dev) noexcept;

    char* maps_ = nullptr;
    std::size_t maps_cap_ = 0;
    Module* modules_ = nullptr;
    std::uint32_t count_ = 0;
    Range* ranges_ = nullptr;
    std::uint32_t nranges_ = 0;
    std::uint64_t next_id_ = 1;
};

}  // namespace heapwise::preload
