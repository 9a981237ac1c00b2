// The report layer's pure pieces: sizes formatted exactly as Python's tracemalloc formats them
// (expected strings printed by /usr/bin/python3's tracemalloc._format_size), source lines read
// from a real file, and a module map rebuilt for --module-dir with the same generations.
#include <catch2/catch.hpp>

#include <fstream>

#include "analyzer/report/module_dirs.hpp"
#include "analyzer/report/source_lines.hpp"
#include "analyzer/report/units.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;

TEST_CASE("sizes read like tracemalloc's", "[report]") {
    const std::vector<std::pair<std::uint64_t, const char*>> plain = {
        {0, "0 B"}, {99, "99 B"}, {4096, "4096 B"}, {10239, "10239 B"}, {10240, "10.0 KiB"},
        {12345, "12.1 KiB"}, {102399, "100.0 KiB"}, {102400, "100 KiB"}, {1048576, "1024 KiB"},
        {10485760, "10.0 MiB"}, {1610612736, "1536 MiB"}, {5497558138880, "5120 GiB"},
        {1125899906842624, "1024 TiB"}};
    for (const auto& [v, text] : plain) {
        INFO(v);
        CHECK(format_size(v) == text);
    }
    const std::vector<std::pair<std::int64_t, const char*>> signed_sizes = {
        {0, "+0 B"}, {-4096, "-4096 B"}, {3000, "+3000 B"}, {-12345, "-12.1 KiB"}, {10485760, "+10.0 MiB"}};
    for (const auto& [v, text] : signed_sizes) {
        INFO(v);
        CHECK(format_size_diff(v) == text);
    }
    CHECK(format_signed(0) == "+0");
    CHECK(format_signed(-25) == "-25");
    CHECK(group_digits(52113) == "52,113");
    CHECK(group_digits(999) == "999");
    CHECK(format_seconds(1'234'567'890) == "1.235 s");
    CHECK(format_rate(165720.5) == "+162 KiB/s");
}

TEST_CASE("source lines come from the file, trimmed", "[report]") {
    test::TempDir dir;
    const auto file = (dir / "a.c").string();
    std::ofstream(file) << "int x;\n\n    p = malloc(4);   \n";
    SourceLines lines;
    CHECK(lines.line(file, 1) == "int x;");
    CHECK_FALSE(lines.line(file, 2));  // blank
    CHECK(lines.line(file, 3) == "p = malloc(4);");
    CHECK_FALSE(lines.line(file, 4));
    CHECK_FALSE(lines.line(file, 0));
    CHECK_FALSE(lines.line((dir / "gone.c").string(), 1));
}

TEST_CASE("--module-dir rebuilds the map with the same generations", "[report]") {
    test::TempDir dir;
    std::ofstream(dir / "libfoo.so") << "not elf";
    ModuleMap map;
    map.add(7, {"/old/place/libfoo.so", "id", 0x1000, {{0, 0x100, 0, 5}}});
    map.add(8, {"/old/place/libbar.so", "id2", 0x5000, {{0, 0x100, 0, 5}}});
    map.remove(7);
    map.add(9, {"/old/place/libfoo.so", "id", 0x9000, {{0, 0x100, 0, 5}}});
    const ModuleMap moved = with_module_dirs(map, {"/nonexistent", dir.path().string()});
    REQUIRE(moved.size() == 3);
    CHECK(moved.generation() == map.generation());
    CHECK(moved.image(ModuleIndex{0}).path == (dir / "libfoo.so").string());
    CHECK(moved.image(ModuleIndex{1}).path == "/old/place/libbar.so");  // not in the dir
    CHECK(moved.image(ModuleIndex{2}).load_bias == 0x9000);
    for (MapGeneration g = 0; g <= map.generation(); ++g) {
        for (std::uint64_t addr : {0x1010ull, 0x5010ull, 0x9010ull}) {
            const auto a = map.find(addr, g);
            const auto b = moved.find(addr, g);
            INFO(g << " " << addr);
            REQUIRE(a.has_value() == b.has_value());
            if (a) CHECK(a->offset == b->offset);
        }
    }
}
