// StackTable: one id per distinct (frames, generation), stable frames, and two threads inserting
// the same stacks concurrently end with one id each.
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "stack_table.hpp"

using heapwise::preload::StackId;
using heapwise::preload::StackTable;

TEST_CASE("interning deduplicates stacks and keeps their frames", "[preload][stacks]") {
    StackTable t;
    REQUIRE(t.init(10, 1 << 16));
    const std::uintptr_t a[] = {0x1000, 0x2000, 0x3000};
    const std::uintptr_t b[] = {0x1000, 0x2000, 0x3001};
    const StackId ia = t.intern(a, 0);
    const StackId ib = t.intern(b, 0);
    CHECK(ia != StackId::kNone);
    CHECK(ib != StackId::kNone);
    CHECK(ia != ib);
    CHECK(t.intern(a, 0) == ia);
    CHECK(t.intern(std::span(a, 2), 0) != ia);  // a prefix is another stack
    const StackId ia1 = t.intern(a, 1);         // after a dlclose: a new id for the same addresses
    CHECK(ia1 != ia);
    CHECK(t.intern(a, 1) == ia1);
    CHECK(t.size() == 4);
    const auto fa = t.frames(ia);
    REQUIRE(fa.size() == 3);
    CHECK(fa[0] == 0x1000);
    CHECK(fa[2] == 0x3000);
    CHECK(t.frames(StackId::kNone).empty());
    CHECK(t.intern({}, 0) != StackId::kNone);  // an empty stack is a stack too
}

TEST_CASE("a full table answers kNone and counts it", "[preload][stacks]") {
    StackTable t;
    REQUIRE(t.init(4, 1 << 12));  // 16 slots, 12 ids
    std::uintptr_t f[1];
    int ok = 0;
    for (std::uintptr_t i = 0; i < 20; ++i) {
        f[0] = 0x400000 + i;
        if (t.intern(f, 0) != StackId::kNone) ++ok;
    }
    CHECK(ok == 12);
    CHECK(t.overflows() == 8);
    f[0] = 0x400000;
    CHECK(t.intern(f, 0) == static_cast<StackId>(1));  // known stacks still resolve
}

TEST_CASE("concurrent inserts give one id per distinct stack", "[preload][stacks]") {
    StackTable t;
    REQUIRE(t.init(16, 1 << 20));
    constexpr int kStacks = 5000;
    std::vector<StackId> ids[2];
    auto worker = [&](int who) {
        std::uintptr_t f[6];
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < kStacks; ++i) {
                for (int k = 0; k < 6; ++k) f[k] = 0x10000u + static_cast<std::uintptr_t>(i * 7 + k);
                const StackId id = t.intern(f, 0);
                if (round == 0) ids[who].push_back(id);
                else if (ids[who][static_cast<std::size_t>(i)] != id) ids[who][static_cast<std::size_t>(i)] = StackId::kNone;
            }
        }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    CHECK(t.size() == kStacks);
    CHECK(ids[0] == ids[1]);
    bool none_missing = true;
    for (auto id : ids[0]) none_missing = none_missing && id != StackId::kNone;
    CHECK(none_missing);
}
