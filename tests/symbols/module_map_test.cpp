// ModuleMap tests: segment ranges (and the gaps between them), load and unload over time,
// an address reused by another module, lookups by generation and by time.
#include <catch2/catch.hpp>

#include "analyzer/symbols/module_map.hpp"

using namespace heapwise::analyzer;

namespace {

ModuleImage image(const char* path, std::uint64_t bias) {
    ModuleImage m;
    m.path = path;
    m.load_bias = bias;
    m.segments = {{0x0, 0x1000, 0x0, 4}, {0x1000, 0x2000, 0x1000, 5}, {0x4000, 0x800, 0x3000, 6}};
    return m;
}

}  // namespace

TEST_CASE("addresses map to module and ELF offset inside PT_LOAD segments only",
          "[symbols][modules]") {
    ModuleMap map;
    ModuleIndex a = map.add(1, image("/lib/a.so", 0x7f0000000000));
    ModuleIndex exe = map.add(2, image("/bin/exe", 0));  // non-PIE: bias 0
    REQUIRE(map.size() == 2);

    auto hit = map.find(0x7f0000001234);
    REQUIRE(hit);
    CHECK(hit->module == a);
    CHECK(hit->offset == 0x1234);
    CHECK(map.find(0x7f0000000000)->offset == 0);
    CHECK(map.find(0x7f0000002fff)->offset == 0x2fff);
    CHECK_FALSE(map.find(0x7f0000003000));  // the gap between text and data
    CHECK(map.find(0x7f00000047ff)->offset == 0x47ff);
    CHECK_FALSE(map.find(0x7f0000004800));  // one past the end
    CHECK(map.find(0x1500)->module == exe);
    CHECK(map.find(0x1500)->offset == 0x1500);
    CHECK_FALSE(map.find(0x3100));  // the executable's gap
    CHECK_FALSE(map.find(0x5000));
}

TEST_CASE("an unloaded module's addresses resolve only for generations it was loaded in",
          "[symbols][modules]") {
    ModuleMap map;
    CHECK(map.generation() == 0);
    ModuleIndex first = map.add(5, image("/lib/first.so", 0x7f0000000000), 1000);
    MapGeneration g1 = map.generation();
    CHECK_FALSE(map.remove(6, 1500));  // never loaded: no change
    CHECK(map.generation() == g1);
    REQUIRE(map.remove(5, 2000));
    MapGeneration g2 = map.generation();
    ModuleIndex second = map.add(5, image("/lib/second.so", 0x7f0000000000), 3000);
    MapGeneration g3 = map.generation();
    CHECK(g1 == 1);
    CHECK(g2 == 2);
    CHECK(g3 == 3);
    CHECK(first != second);

    const std::uint64_t addr = 0x7f0000001100;
    CHECK_FALSE(map.find(addr, 0));
    CHECK(map.find(addr, g1)->module == first);
    CHECK_FALSE(map.find(addr, g2));
    CHECK(map.find(addr, g3)->module == second);
    CHECK(map.find(addr)->module == second);
    CHECK(map.loaded_at(first) == g1);
    CHECK(map.unloaded_at(first) == g2);

    CHECK(map.generation_at(999) == 0);
    CHECK(map.generation_at(1000) == g1);
    CHECK(map.generation_at(2500) == g2);
    CHECK(map.generation_at(99999) == g3);
    CHECK(map.find(addr, map.generation_at(1200))->module == first);
}

TEST_CASE("overlapping ranges of different generations and many modules", "[symbols][modules]") {
    ModuleMap map;
    // A big module early in the address space, then 200 small ones above and inside its span
    // at later generations: the walk back must still find the big one for addresses it holds.
    ModuleImage big;
    big.path = "/lib/big.so";
    big.segments = {{0x100000, 0x10000000, 0, 5}};
    ModuleIndex big_index = map.add(1, big);
    MapGeneration with_big = map.generation();
    REQUIRE(map.remove(1));
    for (std::uint64_t i = 0; i < 200; ++i) {
        ModuleImage small;
        small.path = "/lib/small.so";
        small.load_bias = 0x200000 + i * 0x10000;
        small.segments = {{0, 0x1000, 0, 5}};
        map.add(100 + i, small);
    }
    CHECK(map.find(0x200010, with_big)->module == big_index);
    CHECK(map.find(0x200010, with_big)->offset == 0x200010);
    CHECK(map.find(0x200010)->module == ModuleIndex{1});
    CHECK(map.find(0x200010 + 199 * 0x10000)->module == ModuleIndex{200});
    CHECK_FALSE(map.find(0x201000));  // between two small modules, the big one gone
    CHECK(map.find(0x201000, with_big)->module == big_index);
}

TEST_CASE("empty segments are ignored", "[symbols][modules]") {
    ModuleMap map;
    ModuleImage m;
    m.path = "/x";
    m.segments = {{0x1000, 0, 0, 5}};
    map.add(1, m);
    CHECK_FALSE(map.find(0x1000));
}
