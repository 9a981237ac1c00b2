// The replay's 16-byte address table (analyzer/replay/block_table.hpp) against std::unordered_map
// on random sequences of the replay's operations (put as an alloc does, take as a free, add as a
// failed realloc's restore, and the batch path's try_put and try_take, which must either do the
// same or change nothing), with sizes and stack ids that do not fit a slot (the side map),
// address 0, and addresses that share a home bucket, so keys overflow into later buckets.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "analyzer/replay/block_table.hpp"

using namespace heapwise::analyzer;

namespace {

using Ref = std::unordered_map<std::uint64_t, LiveBlock>;

void require_same(const BlockTable& t, const Ref& ref) {
    REQUIRE(t.size() == ref.size());
    std::size_t seen = 0;
    t.for_each([&](std::uint64_t addr, const LiveBlock& b) {
        ++seen;
        const auto it = ref.find(addr);
        REQUIRE(it != ref.end());
        REQUIRE(it->second == b);
    });
    REQUIRE(seen == ref.size());
}

// Addresses whose home bucket is the same in a table of `capacity` slots (Fibonacci hashing).
std::vector<std::uint64_t> colliding(std::size_t capacity, std::size_t n) {
    const std::size_t buckets = capacity / BlockTable::kBucketSlots;
    const unsigned shift = 64 - static_cast<unsigned>(__builtin_ctzll(buckets));
    std::vector<std::uint64_t> out;
    for (std::uint64_t a = 16; out.size() < n; a += 16) {
        if (((a * 0x9E3779B97F4A7C15ull) >> shift) == 5) out.push_back(a);
    }
    return out;
}

LiveBlock random_block(std::mt19937_64& rng) {
    const unsigned kind = static_cast<unsigned>(rng() % 10);
    std::uint64_t size = 1 + rng() % 4096;
    if (kind == 0) size = (std::uint64_t{1} << 32) + rng() % 100;             // >= 4 GiB: fits
    if (kind == 1) size = BlockTable::kSizeMask - rng() % 2;                   // just over the edge
    if (kind == 2) size = ~std::uint64_t{0} - rng() % 3;                       // huge
    std::uint32_t stack = static_cast<std::uint32_t>(1 + rng() % 50);
    if (kind == 3) stack = static_cast<std::uint32_t>(BlockTable::kMaxInlineStack + rng() % 2);
    if (kind == 4) stack = 0xffffffffu;
    return {size, StackId{stack}};
}

}  // namespace

TEST_CASE("block table: random put, take and add match unordered_map", "[reader][block_table]") {
    std::size_t tried = 0;
    std::size_t stepped = 0;  // try_put and try_take that did the work themselves
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        BlockTable t;
        Ref ref;
        std::mt19937_64 rng(seed);
        // Few distinct addresses (so puts meet live ones and takes find them), a run of colliding
        // ones, address 0, and a few far apart in the address space.
        std::vector<std::uint64_t> addrs = colliding(64, 12);
        for (int i = 0; i < 3000; ++i) addrs.push_back(0x7f0000000000ull + static_cast<std::uint64_t>(i) * 16);
        addrs.push_back(0);
        addrs.push_back(~std::uint64_t{0});
        addrs.push_back(1);
        for (int i = 0; i < 150000; ++i) {
            const std::uint64_t addr = addrs[rng() % addrs.size()];
            const unsigned op = static_cast<unsigned>(rng() % 5);
            if (op == 3) {  // try_put: an alloc's common case, or nothing at all
                const LiveBlock b = random_block(rng);
                const std::size_t before = t.size();
                const bool was = ref.contains(addr);
                ++tried;
                if (t.try_put(addr, b)) {
                    ++stepped;
                    REQUIRE_FALSE(was);
                    ref[addr] = b;
                } else {
                    REQUIRE(t.size() == before);
                }
            } else if (op == 4) {  // try_take: a free's common case, or nothing at all
                LiveBlock out;
                const std::size_t before = t.size();
                ++tried;
                if (t.try_take(addr, out)) {
                    ++stepped;
                    const auto it = ref.find(addr);
                    REQUIRE(it != ref.end());
                    REQUIRE(out == it->second);
                    ref.erase(it);
                } else {
                    REQUIRE(t.size() == before);
                }
            } else if (op == 0) {
                const LiveBlock b = random_block(rng);
                LiveBlock old;
                const bool was = t.put(addr, b, old);
                const auto it = ref.find(addr);
                REQUIRE(was == (it != ref.end()));
                if (was) REQUIRE(old == it->second);
                ref[addr] = b;
            } else if (op == 1) {
                LiveBlock out;
                const bool found = t.take(addr, out);
                const auto it = ref.find(addr);
                REQUIRE(found == (it != ref.end()));
                if (found) {
                    REQUIRE(out == it->second);
                    ref.erase(it);
                }
            } else {
                const LiveBlock b = random_block(rng);
                REQUIRE(t.add(addr, b) == ref.try_emplace(addr, b).second);
            }
            REQUIRE(t.size() == ref.size());
            REQUIRE(t.find(addr) == ref.contains(addr));
        }
        require_same(t, ref);
        // The side map holds exactly the blocks that do not fit a slot.
        std::size_t unfit = 0;
        for (const auto& [a, b] : ref) {
            if (a != 0 && (b.size >= BlockTable::kSizeMask ||
                           static_cast<std::uint64_t>(b.stack) > BlockTable::kMaxInlineStack)) {
                ++unfit;
            }
        }
        CHECK(t.overflowed() == unfit);
        const BlockTable copy = t;
        require_same(copy, ref);
        for (const auto& [a, b] : ref) {
            LiveBlock out;
            REQUIRE(t.take(a, out));
            REQUIRE(out == b);
        }
        CHECK(t.size() == 0);
        CHECK(t.overflowed() == 0);
    }
    CHECK(stepped > tried / 4);  // the common case is common here too
}

TEST_CASE("block table: try_put and try_take take the common case and leave the rest alone",
          "[reader][block_table]") {
    BlockTable t;
    LiveBlock out;
    CHECK_FALSE(t.try_put(0x1000, {8, StackId{1}}));  // an empty table: growth is due
    CHECK(t.size() == 0);
    LiveBlock old;
    CHECK_FALSE(t.put(0x1000, {8, StackId{1}}, old));
    REQUIRE(t.try_put(0x2000, {16, StackId{2}}));
    CHECK(t.size() == 2);
    CHECK_FALSE(t.try_put(0x2000, {24, StackId{3}}));  // live already: put() counts that
    CHECK_FALSE(t.try_put(0, {24, StackId{3}}));       // address 0 lives beside the table
    CHECK_FALSE(t.try_put(0x3000, {std::uint64_t{1} << 41, StackId{3}}));  // the side map's
    CHECK_FALSE(t.try_put(0x3000, {5, StackId{1u << 24}}));
    CHECK(t.size() == 2);
    CHECK_FALSE(t.try_take(0x4000, out));  // not live
    REQUIRE(t.try_take(0x2000, out));
    CHECK(out == LiveBlock{16, StackId{2}});
    CHECK_FALSE(t.find(0x2000));
    CHECK(t.put(0x5000, {std::uint64_t{1} << 41, StackId{4}}, old) == false);
    CHECK_FALSE(t.try_take(0x5000, out));  // in the side map: take() hands it out
    REQUIRE(t.take(0x5000, out));
    CHECK(out == LiveBlock{std::uint64_t{1} << 41, StackId{4}});
    CHECK(t.overflowed() == 0);
    // A home bucket that overflowed once: try_put leaves every address homed there to put().
    const std::vector<std::uint64_t> same_home = colliding(64, 6);
    for (std::size_t i = 0; i < 5; ++i) CHECK_FALSE(t.put(same_home[i], {i + 1, StackId{1}}, old));
    CHECK_FALSE(t.try_put(same_home[5], {6, StackId{1}}));
    CHECK_FALSE(t.try_take(same_home[4], out));  // past its home bucket: take() finds it
    REQUIRE(t.take(same_home[4], out));
    CHECK(out.size == 5);
    REQUIRE(t.try_take(same_home[0], out));
    CHECK(out.size == 1);
}

TEST_CASE("block table: addresses past a full home bucket stay findable as others leave",
          "[reader][block_table]") {
    BlockTable t;
    const std::vector<std::uint64_t> same_home = colliding(64, 20);
    LiveBlock old;
    for (std::size_t i = 0; i < same_home.size(); ++i) {
        CHECK_FALSE(t.put(same_home[i], {i + 1, StackId{static_cast<std::uint32_t>(i)}}, old));
    }
    CHECK(t.capacity() == 64);  // 20 of 64: no growth; five buckets hold them, one after the other
    // Take every other one, from the middle of the run: the rest must still be found.
    for (std::size_t i = 1; i < same_home.size(); i += 2) {
        LiveBlock out;
        REQUIRE(t.take(same_home[i], out));
        CHECK(out.size == i + 1);
    }
    for (std::size_t i = 0; i < same_home.size(); ++i) CHECK(t.find(same_home[i]) == (i % 2 == 0));
    LiveBlock out;
    CHECK_FALSE(t.take(same_home[1], out));
}

TEST_CASE("block table: a size of 1 TiB and more and a stack id of 2^24 and more replay exactly",
          "[reader][block_table]") {
    BlockTable t;
    LiveBlock old;
    const LiveBlock big{std::uint64_t{1} << 40, StackId{3}};
    const LiveBlock far{100, StackId{1u << 24}};
    const LiveBlock edge{BlockTable::kSizeMask - 1, StackId{static_cast<std::uint32_t>(BlockTable::kMaxInlineStack)}};
    t.put(0x1000, big, old);
    t.put(0x2000, far, old);
    t.put(0x3000, edge, old);
    CHECK(t.overflowed() == 2);  // edge fits exactly
    REQUIRE(t.put(0x1000, {5, StackId{1}}, old));  // replaced by a fitting block: leaves the side map
    CHECK(old == big);
    CHECK(t.overflowed() == 1);
    LiveBlock out;
    REQUIRE(t.take(0x2000, out));
    CHECK(out == far);
    REQUIRE(t.take(0x3000, out));
    CHECK(out == edge);
    CHECK(t.overflowed() == 0);
}
