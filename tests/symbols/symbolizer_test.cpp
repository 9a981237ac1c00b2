// Symbolizer tests over real programs: probe_main.cpp built as a PIE and a -no-pie executable
// and probe_lib.cpp as a dlopen'ed shared library report return addresses from known lines
// (__LINE__), and the symbolizer must give back exactly those functions, files, lines and
// inline chains: from DWARF, from a stripped copy's symbol table, from a separate debug file,
// and never a name from a file that is missing or is not the one that was mapped.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "analyzer/symbols/symbolizer.hpp"
#include "probe_run.hpp"

namespace fs = std::filesystem;
using namespace heapwise::analyzer;
using namespace heapwise::analyzer::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const char* const kLibTemplate =
    "heapwise_probe_lib::detail::Table<int, std::pair<long, char> >::insert(ProbeSink const*, "
    "int, std::pair<long, char>)";
const char* const kLibOuter = "heapwise_probe_lib::detail::outer_step(ProbeSink const*)";
const char* const kLibInner = "heapwise_probe_lib::detail::inner_step(ProbeSink const*, int)";
const char* const kLibInternal = "(anonymous namespace)::internal_only(ProbeSink const*)";

void check_frame(const SourceFrame& frame, const std::string& function, const char* file,
                 int line, bool inlined) {
    INFO("function " << frame.function << " at " << frame.file << ":" << frame.line);
    CHECK(frame.function == function);
    CHECK(basename_of(frame.file) == file);
    CHECK(frame.line == static_cast<std::uint32_t>(line));
    CHECK(frame.column > 0);
    CHECK(frame.inlined == inlined);
}

void check_executable(const char* exe, const char* name) {
    const ProbeRun& run = run_probe(exe);
    ModuleMap map = run.map();
    Symbolizer symbolizer(map);
    const ModuleImage& image = run.module(name);

    const Probe& tmpl = run.probe("exe_template");
    const SymbolizedAddress& a = symbolizer.symbolize(tmpl.address);
    REQUIRE(a.source == SymbolSource::kDwarf);
    CHECK(a.module_name == name);
    CHECK(a.module_path == image.path);
    CHECK(a.offset == tmpl.address - 1 - image.load_bias);
    REQUIRE(a.frames.size() == 1);
    check_frame(a.frames[0], "heapwise_probe::Widget<unsigned short>::run(ProbeSink const*, unsigned short)",
                "probe_main.cpp", tmpl.lines[0], false);

    // level2 inlined into level1 inlined into inline_host: innermost first, each frame's line
    // is where the next inner one was called.
    const Probe& chain = run.probe("exe_inline");
    const SymbolizedAddress& b = symbolizer.symbolize(chain.address);
    REQUIRE(b.source == SymbolSource::kDwarf);
    REQUIRE(b.frames.size() == 3);
    check_frame(b.frames[0], "heapwise_probe::level2(ProbeSink const*, int, int)", "probe_main.cpp",
                chain.lines[0], true);
    check_frame(b.frames[1], "heapwise_probe::level1(ProbeSink const*, int)", "probe_main.cpp",
                chain.lines[1], true);
    check_frame(b.frames[2], "heapwise_probe::inline_host(ProbeSink const*)", "probe_main.cpp",
                chain.lines[2], false);

    const Probe& c_fn = run.probe("exe_c_function");
    const SymbolizedAddress& c = symbolizer.symbolize(c_fn.address);
    REQUIRE(c.frames.size() == 1);
    check_frame(c.frames[0], "hw_probe_c_function", "probe_main.cpp", c_fn.lines[0], false);
    CHECK(symbolizer.warnings().empty());
}

// The library's module image, with the path replaced by a copy of the file.
ModuleImage lib_image_at(const std::string& path) {
    ModuleImage image = run_probe(HW_PROBE_PIE).module("libhw_symprobe.so");
    image.path = path;
    return image;
}

struct LibCopy {
    ModuleMap map;
    std::uint64_t address(const std::string& tag) const { return run_probe(HW_PROBE_PIE).probe(tag).address; }
    explicit LibCopy(const std::string& path) { map.add(1, lib_image_at(path)); }
};

void check_lib_dwarf(Symbolizer& symbolizer, const LibCopy& copy) {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    const SymbolizedAddress& t = symbolizer.symbolize(copy.address("lib_template"));
    REQUIRE(t.source == SymbolSource::kDwarf);
    REQUIRE(t.frames.size() == 1);
    check_frame(t.frames[0], kLibTemplate, "probe_lib.cpp", run.probe("lib_template").lines[0], false);
    const SymbolizedAddress& i = symbolizer.symbolize(copy.address("lib_inline"));
    REQUIRE(i.frames.size() == 2);
    check_frame(i.frames[0], kLibInner, "probe_lib.cpp", run.probe("lib_inline").lines[0], true);
    check_frame(i.frames[1], kLibOuter, "probe_lib.cpp", run.probe("lib_inline").lines[1], false);
}

}  // namespace

TEST_CASE("a PIE executable: demangled names, files, lines and the inline chain", "[symbols]") {
    check_executable(HW_PROBE_PIE, "symbols_probe_pie");
}

TEST_CASE("a non-PIE executable resolves at its fixed addresses", "[symbols]") {
    const ProbeRun& run = run_probe(HW_PROBE_NOPIE);
    CHECK(run.module("symbols_probe_nopie").load_bias == 0);
    check_executable(HW_PROBE_NOPIE, "symbols_probe_nopie");
}

TEST_CASE("a dlopen'ed shared library: templates, inline frames, internal and C functions",
          "[symbols]") {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    ModuleMap map = run.map();
    Symbolizer symbolizer(map);
    LibCopy lib(HW_PROBE_LIB);
    Symbolizer lib_symbolizer(lib.map);
    check_lib_dwarf(lib_symbolizer, lib);

    const SymbolizedAddress& internal = symbolizer.symbolize(run.probe("lib_internal").address);
    REQUIRE(internal.frames.size() == 1);
    CHECK(internal.frames[0].function == kLibInternal);
    CHECK(internal.frames[0].line == static_cast<std::uint32_t>(run.probe("lib_internal").lines[0]));
    const SymbolizedAddress& entry = symbolizer.symbolize(run.probe("lib_c_entry").address);
    REQUIRE(entry.frames.size() == 1);
    check_frame(entry.frames[0], "hw_symprobe_lib_run", "probe_lib.cpp",
                run.probe("lib_c_entry").lines[0], false);
    CHECK(entry.module_name == "libhw_symprobe.so");
}

TEST_CASE("each distinct address is resolved once and each file opened once", "[symbols]") {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    ModuleMap map = run.map();
    Symbolizer symbolizer(map);
    const SymbolizedAddress& first = symbolizer.symbolize(run.probe("lib_template").address);
    for (int i = 0; i < 100; ++i) {
        CHECK(&symbolizer.symbolize(run.probe("lib_template").address) == &first);
    }
    symbolizer.symbolize(run.probe("lib_inline").address);
    symbolizer.symbolize(run.probe("exe_template").address);
    SymbolizerStats stats = symbolizer.stats();
    CHECK(stats.lookups == 103);
    CHECK(stats.resolved == 3);
    CHECK(stats.files_opened == 2);
}

TEST_CASE("a copy stripped of debug info keeps function names, without lines", "[symbols]") {
    TempDir dir;
    objcopy({"--strip-debug", HW_PROBE_LIB, dir / "libhw_symprobe.so"});
    LibCopy lib(dir / "libhw_symprobe.so");
    Symbolizer symbolizer(lib.map, SymbolizerOptions{{dir / "no-debug-root"}});

    const SymbolizedAddress& t = symbolizer.symbolize(lib.address("lib_template"));
    REQUIRE(t.source == SymbolSource::kSymbolTable);
    REQUIRE(t.frames.size() == 1);
    CHECK(t.frames[0].function == kLibTemplate);
    CHECK(t.frames[0].file.empty());
    CHECK(t.frames[0].line == 0);
    CHECK(describe(t) == std::string(kLibTemplate) + " at ??:0");
    // Only the real function is left of the inline chain.
    const SymbolizedAddress& i = symbolizer.symbolize(lib.address("lib_inline"));
    REQUIRE(i.frames.size() == 1);
    CHECK(i.frames[0].function == kLibOuter);
    const SymbolizedAddress& n = symbolizer.symbolize(lib.address("lib_internal"));
    REQUIRE(n.frames.size() == 1);
    CHECK(n.frames[0].function == kLibInternal);
    CHECK(symbolizer.warnings().empty());
}

// Table<...>::insert is an .isra clone with local binding, so only .symtab has it.
TEST_CASE("a fully stripped copy names exported functions from .dynsym and nothing else",
          "[symbols]") {
    TempDir dir;
    objcopy({"--strip-all", HW_PROBE_LIB, dir / "libhw_symprobe.so"});
    LibCopy lib(dir / "libhw_symprobe.so");
    Symbolizer symbolizer(lib.map, SymbolizerOptions{{dir / "no-debug-root"}});

    const SymbolizedAddress& t = symbolizer.symbolize(lib.address("lib_inline"));
    REQUIRE(t.source == SymbolSource::kSymbolTable);
    REQUIRE(t.frames.size() == 1);
    CHECK(t.frames[0].function == kLibOuter);
    const SymbolizedAddress& e = symbolizer.symbolize(lib.address("lib_c_entry"));
    REQUIRE(e.frames.size() == 1);
    CHECK(e.frames[0].function == "hw_symprobe_lib_run");
    // internal_only is in no dynamic symbol: no name at all rather than its neighbour's.
    const SymbolizedAddress& n = symbolizer.symbolize(lib.address("lib_internal"));
    CHECK(n.source == SymbolSource::kNoSymbol);
    CHECK(n.frames.empty());
    const ModuleImage& image = lib.map.image(ModuleIndex{0});
    std::uint64_t offset = lib.address("lib_internal") - 1 - image.load_bias;
    char expected[64];
    std::snprintf(expected, sizeof expected, "libhw_symprobe.so+0x%llx",
                  static_cast<unsigned long long>(offset));
    CHECK(describe(n) == expected);
}

TEST_CASE("debug info in a separate file is found by build-id under the debug root",
          "[symbols]") {
    TempDir dir;
    std::string id = to_hex(lib_image_at("").build_id);
    REQUIRE(id.size() == 40);
    fs::create_directories(dir.path() / "root/.build-id" / id.substr(0, 2));
    fs::create_directories(dir.path() / "bin");
    objcopy({"--only-keep-debug", HW_PROBE_LIB,
             dir / ("root/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug")});
    objcopy({"--strip-all", HW_PROBE_LIB, dir / "bin/libhw_symprobe.so"});
    LibCopy lib(dir / "bin/libhw_symprobe.so");

    Symbolizer symbolizer(lib.map, SymbolizerOptions{{dir / "root"}});
    check_lib_dwarf(symbolizer, lib);
    // The internal function's name comes back with the debug file's .symtab.
    const SymbolizedAddress& n = symbolizer.symbolize(lib.address("lib_internal"));
    REQUIRE(n.frames.size() == 1);
    CHECK(n.frames[0].function == kLibInternal);

    Symbolizer elsewhere(lib.map, SymbolizerOptions{{dir / "other-root"}});
    CHECK(elsewhere.symbolize(lib.address("lib_inline")).source == SymbolSource::kSymbolTable);
}

TEST_CASE("debug info is found by .gnu_debuglink beside the file, in .debug/ and under a root",
          "[symbols]") {
    TempDir dir;
    fs::create_directories(dir.path() / "bin/.debug");
    const std::string debug = dir / "libhw_symprobe.debug";
    objcopy({"--only-keep-debug", HW_PROBE_LIB, debug});
    objcopy({"--strip-all", "--add-gnu-debuglink=" + debug, HW_PROBE_LIB, dir / "bin/libhw_symprobe.so"});
    LibCopy lib(dir / "bin/libhw_symprobe.so");
    const SymbolizerOptions no_root{{dir / "empty-root"}};

    SECTION("in .debug/") {
        fs::copy_file(debug, dir.path() / "bin/.debug/libhw_symprobe.debug");
        Symbolizer symbolizer(lib.map, no_root);
        check_lib_dwarf(symbolizer, lib);
    }
    SECTION("beside the file") {
        fs::copy_file(debug, dir.path() / "bin/libhw_symprobe.debug");
        Symbolizer symbolizer(lib.map, no_root);
        check_lib_dwarf(symbolizer, lib);
    }
    SECTION("under the debug root, at the module's own directory") {
        fs::path under = dir.path() / "root" / (dir.path() / "bin").relative_path();
        fs::create_directories(under);
        fs::copy_file(debug, under / "libhw_symprobe.debug");
        Symbolizer symbolizer(lib.map, SymbolizerOptions{{dir / "root"}});
        check_lib_dwarf(symbolizer, lib);
    }
    SECTION("a debug file of another build under that name is not used") {
        objcopy({"--only-keep-debug", HW_PROBE_PIE, dir / "bin/.debug/libhw_symprobe.debug"});
        Symbolizer symbolizer(lib.map, no_root);
        const SymbolizedAddress& t = symbolizer.symbolize(lib.address("lib_inline"));
        CHECK(t.source == SymbolSource::kSymbolTable);
        REQUIRE(t.frames.size() == 1);
        CHECK(t.frames[0].function == kLibOuter);
    }
}

TEST_CASE("a module whose build-id differs is shown as module+offset with one warning",
          "[symbols]") {
    ModuleImage image = lib_image_at(HW_PROBE_LIB);
    image.build_id[0] = static_cast<char>(image.build_id[0] ^ 0x5a);
    ModuleMap map;
    map.add(1, image);
    Symbolizer symbolizer(map);
    for (const char* tag : {"lib_template", "lib_inline", "lib_internal"}) {
        std::uint64_t address = run_probe(HW_PROBE_PIE).probe(tag).address;
        const SymbolizedAddress& s = symbolizer.symbolize(address);
        CHECK(s.source == SymbolSource::kUnusableModule);
        CHECK(s.frames.empty());
        char expected[64];
        std::snprintf(expected, sizeof expected, "libhw_symprobe.so+0x%llx",
                      static_cast<unsigned long long>(address - 1 - image.load_bias));
        CHECK(describe(s) == expected);
    }
    REQUIRE(symbolizer.warnings().size() == 1);
    CHECK(symbolizer.warnings()[0].module_path == HW_PROBE_LIB);
    CHECK_THAT(symbolizer.warnings()[0].message, Contains("build-id") && Contains(HW_PROBE_LIB));
}

TEST_CASE("a missing file, or another file without build-id, is never named", "[symbols]") {
    TempDir dir;
    SECTION("missing") {
        ModuleMap map;
        map.add(1, lib_image_at(dir / "gone/libhw_symprobe.so"));
        Symbolizer symbolizer(map);
        const SymbolizedAddress& s =
            symbolizer.symbolize(run_probe(HW_PROBE_PIE).probe("lib_template").address);
        CHECK(s.source == SymbolSource::kUnusableModule);
        CHECK(s.frames.empty());
        CHECK_THAT(describe(s), StartsWith("libhw_symprobe.so+0x"));
        REQUIRE(symbolizer.warnings().size() == 1);
        CHECK_THAT(symbolizer.warnings()[0].message, Contains("file not found"));
    }
    SECTION("a module with no file, like the vDSO") {
        ModuleMap map;
        map.add(1, lib_image_at("linux-vdso.so.1"));
        Symbolizer symbolizer(map);
        const SymbolizedAddress& s =
            symbolizer.symbolize(run_probe(HW_PROBE_PIE).probe("lib_template").address);
        CHECK(s.source == SymbolSource::kUnusableModule);
        CHECK_THAT(describe(s), StartsWith("linux-vdso.so.1+0x"));
        REQUIRE(symbolizer.warnings().size() == 1);
        CHECK_THAT(symbolizer.warnings()[0].message, Contains("not a file on disk"));
    }
    SECTION("not an ELF file") {
        std::ofstream(dir / "libhw_symprobe.so") << "this is text, not ELF\n";
        ModuleMap map;
        map.add(1, lib_image_at(dir / "libhw_symprobe.so"));
        Symbolizer symbolizer(map);
        const SymbolizedAddress& s =
            symbolizer.symbolize(run_probe(HW_PROBE_PIE).probe("lib_template").address);
        CHECK(s.source == SymbolSource::kUnusableModule);
        REQUIRE(symbolizer.warnings().size() == 1);
        CHECK_THAT(symbolizer.warnings()[0].message, Contains("not a readable ELF file"));
    }
    SECTION("a different file where the library was, and no build-id recorded") {
        ModuleImage image = lib_image_at(HW_PROBE_PIE);
        image.build_id.clear();
        ModuleMap map;
        map.add(1, image);
        Symbolizer symbolizer(map);
        const SymbolizedAddress& s =
            symbolizer.symbolize(run_probe(HW_PROBE_PIE).probe("lib_template").address);
        CHECK(s.source == SymbolSource::kUnusableModule);
        REQUIRE(symbolizer.warnings().size() == 1);
        CHECK_THAT(symbolizer.warnings()[0].message, Contains("not the file that was mapped"));
    }
}

TEST_CASE("an address is resolved against the module loaded there when it was recorded",
          "[symbols]") {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    ModuleImage lib = run.module("libhw_symprobe.so");
    ModuleImage exe = run.module("symbols_probe_pie");
    exe.load_bias = lib.load_bias;  // the executable's file, mapped where the library was
    ModuleMap map;
    map.add(7, lib, 100);
    MapGeneration with_lib = map.generation();
    REQUIRE(map.remove(7, 200));
    map.add(8, exe, 300);
    MapGeneration with_exe = map.generation();

    Symbolizer symbolizer(map);
    std::uint64_t address = run.probe("lib_template").address;
    const SymbolizedAddress& then = symbolizer.symbolize(address, with_lib);
    REQUIRE(then.frames.size() == 1);
    CHECK(then.frames[0].function == kLibTemplate);
    CHECK(&symbolizer.symbolize(address, map.generation_at(150)) == &then);
    const SymbolizedAddress& now = symbolizer.symbolize(address, with_exe);
    CHECK(now.module_name == "symbols_probe_pie");
    for (const SourceFrame& frame : now.frames) CHECK(frame.function != kLibTemplate);
    CHECK(symbolizer.symbolize(address, map.generation_at(250)).source == SymbolSource::kNoModule);
    CHECK(symbolizer.warnings().empty());
}

TEST_CASE("an address outside every module is shown as a plain address", "[symbols]") {
    ModuleMap map = run_probe(HW_PROBE_PIE).map();
    Symbolizer symbolizer(map);
    const SymbolizedAddress& s = symbolizer.symbolize(0x1001);
    CHECK(s.source == SymbolSource::kNoModule);
    CHECK(describe(s) == "0x1000");
}
