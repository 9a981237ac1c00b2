// The replay tests' comparison of two snapshots (Catch2): the same totals, internal stacks and
// every stack's five figures. The point's name and `estimated` are left to the caller.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>

#include "analyzer/replay/heap_replay.hpp"

namespace heapwise::analyzer {

inline void require_same(const Snapshot& a, const Snapshot& b) {
    CHECK(a.time_ns == b.time_ns);
    CHECK(a.position == b.position);
    CHECK(a.live_bytes == b.live_bytes);
    CHECK(a.live_count == b.live_count);
    CHECK(a.internal_stacks == b.internal_stacks);
    REQUIRE(a.stacks.size() == b.stacks.size());
    for (const auto& [id, u] : a.stacks) {
        INFO("stack " << static_cast<std::uint32_t>(id));
        const auto it = b.stacks.find(id);
        REQUIRE(it != b.stacks.end());
        CHECK(u.live_bytes == it->second.live_bytes);
        CHECK(u.live_count == it->second.live_count);
        CHECK(u.allocs == it->second.allocs);
        CHECK(u.bytes_allocated == it->second.bytes_allocated);
        CHECK(u.temporary == it->second.temporary);
    }
}

}  // namespace heapwise::analyzer
