// Debug file search helpers: the candidate order, build-ids read from real files, the
// debuglink CRC32 (checked against the standard check value).
#include <catch2/catch.hpp>
#include <fstream>

#include "analyzer/symbols/debug_file.hpp"
#include "probe_run.hpp"

using namespace heapwise::analyzer;
using namespace heapwise::analyzer::test;

TEST_CASE("debug file candidates: build-id under each root, then the debuglink places",
          "[symbols][debug]") {
    const unsigned char id[] = {0xab, 0xcd, 0xef, 0x01};
    DebugFileQuery query;
    query.module_path = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
    query.build_id = id;
    query.debuglink = "libfoo.so.1.debug";
    CHECK(debug_file_candidates(query, {"/usr/lib/debug", "/opt/dbg/"}) ==
          std::vector<std::string>{
              "/usr/lib/debug/.build-id/ab/cdef01.debug",
              "/opt/dbg/.build-id/ab/cdef01.debug",
              "/usr/lib/x86_64-linux-gnu/libfoo.so.1.debug",
              "/usr/lib/x86_64-linux-gnu/.debug/libfoo.so.1.debug",
              "/usr/lib/debug/usr/lib/x86_64-linux-gnu/libfoo.so.1.debug",
              "/opt/dbg//usr/lib/x86_64-linux-gnu/libfoo.so.1.debug",
          });
    query.build_id = {};
    query.debuglink = {};
    CHECK(debug_file_candidates(query, {"/usr/lib/debug"}).empty());
}

TEST_CASE("build-ids are read from ELF files and are empty for anything else",
          "[symbols][debug]") {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    CHECK(read_build_id(HW_PROBE_LIB) == run.module("libhw_symprobe.so").build_id);
    CHECK(read_build_id(HW_PROBE_LIB).size() == 20);
    TempDir dir;
    std::ofstream(dir / "text") << "not an ELF file\n";
    CHECK(read_build_id(dir / "text").empty());
    CHECK(read_build_id(dir / "missing").empty());
}

TEST_CASE("file CRC32 is the one .gnu_debuglink records", "[symbols][debug]") {
    TempDir dir;
    std::ofstream(dir / "check") << "123456789";
    std::uint32_t crc = 0;
    REQUIRE(file_crc32(dir / "check", crc));
    CHECK(crc == 0xCBF43926u);
    CHECK_FALSE(file_crc32(dir / "missing", crc));
}
