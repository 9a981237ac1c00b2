// Replays a trace with the analyzer's reader, in file order, and collects the facts the
// end-to-end tests assert on: every allocation-side operation (with the block a free released),
// the live set at the end, and every inconsistency of the ordering rule (an allocation of a
// still-live address, a free of an unknown address, a failed realloc of a block not just freed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/events.hpp"
#include "analyzer/stack_table.hpp"
#include "analyzer/trace_reader.hpp"

namespace heapwise::e2e {

namespace hwa = heapwise::analyzer;

struct AddrRange {
    std::uint64_t lo = 0;  // inclusive
    std::uint64_t hi = 0;  // exclusive
    // A return address belongs to the function holding the call, i.e. to address - 1.
    bool holds_return_address(std::uint64_t ra) const noexcept { return ra - 1 >= lo && ra - 1 < hi; }
};

enum class OpKind : std::uint8_t { kAlloc, kFree, kReallocFailed };

// A block as the replay knows it.
struct Block {
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    hwa::StackId stack{};
    hwa::AllocFn fn = hwa::AllocFn::kMalloc;
    hwa::ThreadId thread{};
    std::uint64_t seq = 0;  // seq of its allocation
};

struct Op {
    std::uint64_t seq = 0;  // position among all events of the trace, in file order
    OpKind kind = OpKind::kAlloc;
    hwa::ThreadId thread{};
    std::uint64_t addr = 0;
    std::uint64_t time_ns = 0;
    std::uint8_t fn = 0;  // AllocFn for allocs, FreeFn for frees
    Block block;          // alloc: the new block; free: the block released; failed: the block restored
    bool known = true;    // false for a free of an unknown address
};

struct Sequenced {
    std::uint64_t seq = 0;
};
struct SeqModuleLoad : hwa::ModuleLoad, Sequenced {};
struct SeqModuleUnload : hwa::ModuleUnload, Sequenced {};
struct SeqMarker : hwa::Marker, Sequenced {};
struct SeqStack : Sequenced {
    hwa::StackId id{};
};

struct ReplayOptions {
    bool keep_ops = true;  // false for big traces: counts, live set and inconsistencies only
};

struct TraceFacts {
    std::filesystem::path path;
    std::optional<hwa::ProcessInfo> info;
    std::vector<SeqModuleLoad> module_loads;
    std::vector<SeqModuleUnload> module_unloads;
    std::vector<hwa::ThreadStart> thread_starts;
    std::vector<hwa::ThreadExit> thread_exits;
    std::vector<SeqMarker> markers;
    std::vector<SeqStack> stack_defs;
    std::vector<hwa::Lost> lost;
    std::optional<hwa::End> end;
    std::uint64_t rss_samples = 0;
    std::uint64_t events = 0;  // every event delivered, stacks and metadata included
    std::uint64_t allocs = 0, frees = 0, realloc_failed = 0, bytes_allocated = 0;
    std::vector<Op> ops;
    std::unordered_map<std::uint64_t, Block> live;
    std::uint64_t inconsistencies = 0;  // the sum of the three below
    std::uint64_t allocs_of_live = 0;   // an allocation returned an address still live
    std::uint64_t unknown_frees = 0;    // a free of an address not live (in a fork child: may be a
                                        // block inherited from the parent, allocated before the trace)
    std::uint64_t unmatched_failed = 0; // a failed realloc of a block its thread did not just free
    std::vector<std::string> inconsistency_samples;  // the first few, for messages
    std::vector<std::string> damage;                  // the reader's damage reports
    hwa::StackTable stacks;

    std::span<const std::uint64_t> frames(hwa::StackId id) const { return stacks.frames(id); }
    const SeqModuleLoad* module_holding(std::uint64_t addr) const;
    const SeqModuleLoad* module_named(std::string_view path_part) const;
    std::uint64_t lost_allocs() const;
    std::uint64_t lost_frees() const;
    std::string summary() const;  // for assertion messages
};

TraceFacts replay(const std::filesystem::path& path, ReplayOptions options = {});

// The range a module's segments cover once loaded, executable segments only.
std::vector<AddrRange> exec_ranges(const hwa::ModuleLoad& m);

// True when the first frame of the stack that lies in `within` (e.g. the program's executable)
// lies in `fn`; frames outside `within` before it (libc, libstdc++) are skipped.
bool first_frame_in(std::span<const std::uint64_t> frames, const std::vector<AddrRange>& within,
                    const AddrRange& fn);

}  // namespace heapwise::e2e
