// Assertions shared by the end-to-end tests (Catch2, main thread only): a trace that reads without
// damage, replays without an ordering inconsistency and ends properly; the operations a given
// function of the program made, rendered as lines so a mismatch shows the whole sequence.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "facts.hpp"
#include "harness.hpp"
#include "replay.hpp"

namespace heapwise::e2e {

// Replays the one trace in dir; fails the test if there is not exactly one.
inline TraceFacts the_trace(const fs::path& dir, ReplayOptions options = {}) {
    const auto files = traces_in(dir);
    INFO("trace files in " << dir.string() << ": " << files.size());
    REQUIRE(files.size() == 1);
    return replay(files.front(), options);
}

// Looks at the trace in dir, still being written, after `first` and then at doubling intervals
// (a read of a growing trace costs more each time) until ready(path) holds or `limit` passes
// (false then): for a test that must act only once the writer has flushed something, which on a
// loaded machine can take longer than any fixed wait would allow. A file whose header is not
// whole yet (ready throws) is looked at again.
template <class Ready>
bool wait_for_trace(const fs::path& dir, Ready ready, std::chrono::milliseconds first,
                    std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::this_thread::sleep_for(first);
    for (auto pause = std::chrono::milliseconds(100);; pause = std::min(2 * pause, std::chrono::milliseconds(2000))) {
        const auto files = traces_in(dir);
        if (files.size() == 1) {
            try {
                if (ready(files.front())) return true;
            } catch (const std::exception&) {
                // Not a whole file header yet: look again.
            }
        }
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(pause);
    }
}

// Read without damage, zero inconsistencies, a process record and an end record.
inline void require_sound(const TraceFacts& t, bool needs_end = true) {
    INFO(t.summary());
    REQUIRE(t.info.has_value());
    CHECK(t.damage.empty());
    CHECK(t.inconsistencies == 0);
    if (needs_end) CHECK(t.end.has_value());
}

// The operations that involve blocks allocated from `fn` (first frame in the executable lies in
// fn): their allocations, their frees and their failed reallocs, in file order, as lines
// "alloc FN 0xADDR SIZE", "free FN 0xADDR SIZE", "realloc-failed 0xADDR SIZE".
std::vector<std::string> ops_of(const TraceFacts& t, const std::vector<AddrRange>& exe, const AddrRange& fn);

// The allocations made from fn.
std::vector<Op> allocs_of(const TraceFacts& t, const std::vector<AddrRange>& exe, const AddrRange& fn);

std::string hex(std::uint64_t v);
std::string alloc_line(hwa::AllocFn fn, std::uint64_t addr, std::uint64_t size);
std::string free_line(hwa::FreeFn fn, std::uint64_t addr, std::uint64_t size);
std::string failed_line(std::uint64_t addr, std::uint64_t size);

}  // namespace heapwise::e2e
