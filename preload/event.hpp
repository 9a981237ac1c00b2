// One entry of a per-thread ring: what a hook saw, stamped with CLOCK_MONOTONIC. 32 bytes so two
// fit a cache line. The writer turns events into trace records (thread id comes from the ring).
#pragma once

#include <cstdint>

namespace heapwise::preload {

enum class EventKind : std::uint8_t {
    kAlloc = 0,          // addr, size, stack, fn (format::AllocFn)
    kFree = 1,           // addr, fn (format::FreeFn)
    kReallocFailed = 2,  // addr
    kMarker = 3,         // addr: label slot (LabelSlab), fn: format::MarkerSource
    kThreadName = 4,     // name inline in addr+size (15 chars and a NUL)
    kModules = 5,        // the module map may have changed (dlclose): rescan before going on
};

struct Event {
    std::uint64_t time_ns;
    std::uint64_t addr;
    std::uint64_t size;
    std::uint32_t stack;
    EventKind kind;
    std::uint8_t fn;
    std::uint16_t reserved;
};
static_assert(sizeof(Event) == 32);

}  // namespace heapwise::preload
