// `heapwise dump` and `heapwise stats`, run as real processes on trace files in a temp dir:
// exact output lines, JSON, exit codes (0 clean, 1 damaged but read, 2 unusable) and the one
// stderr line that names the file, the offset and what broke.
#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_process.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;

namespace {

Bytes small_block() {
    RecordWriter w;
    test::append(w.out, test::process_info_record(1000));
    w.kind(K::kThreadStart).var(1).var(0).var(77).str("main");
    w.kind(K::kStack).var(1).u8(0).var(2).var(0x401000).svar(0x10).var(0).var(0);
    w.kind(K::kAlloc).var(2).var(0).svar(0x1000).var(100).var(1).u8(0);
    w.kind(K::kAlloc).var(1).var(0).svar(0x1000).var(50).var(1).u8(1);
    w.kind(K::kFree).var(1).var(0).svar(-0x1000).u8(0);
    w.kind(K::kMarker).var(1).var(0).u8(0).str("snap");
    w.kind(K::kRss).var(1).var(8192);
    return w.out;
}

Bytes end_block() {
    RecordWriter w;
    w.kind(K::kEnd).var(8).u8(0).var(3).var(2).var(1).var(150).var(0).var(1).var(1);
    return w.out;
}

Bytes small_trace() {
    Bytes b = test::file_header_bytes();
    test::append(b, test::block_bytes(small_block()));
    test::append(b, test::block_bytes(end_block()));
    return b;
}

const char* const kDump =
    "0.000000000 - process_info pid=4242 ppid=1 start_unix_ns=1700000000000000000 "
    "start_monotonic_ns=5000000 tick_ns=1000 pointer_size=8 mode=lossless sample_interval=0 "
    "unwinder=libunwind max_depth=64 exe=\"/usr/bin/prog\" cwd=\"/tmp\" args=[\"prog\",\"--flag\"] "
    "options=\"HEAPWISE_DEPTH=64\\n\"\n"
    "0.000001000 t0 thread_start tid=77 name=\"main\"\n"
    "0.000001000 - stack id=1 depth=2 own=2 base=0 base_from=0\n"
    "0.000003000 t0 alloc addr=0x1000 size=100 stack=1 fn=malloc\n"
    "0.000004000 t0 alloc addr=0x2000 size=50 stack=1 fn=calloc\n"
    "0.000005000 t0 free addr=0x1000 fn=free\n"
    "0.000006000 t0 marker source=call label=\"snap\"\n"
    "0.000007000 - rss bytes=8192\n";
const char* const kDumpEnd =
    "0.000008000 - end reason=exit events=3 allocs=2 frees=1 bytes_allocated=150 lost_events=0 "
    "stacks=1 threads=1\n";

}  // namespace

TEST_CASE("dump prints every record on one stable line", "[cli]") {
    test::TempDir dir;
    const auto path = (dir / "small.hwt").string();
    test::write_file(path, small_trace());
    const auto r = test::run({test::heapwise_exe(), "dump", path});
    CHECK(r.exited(0));
    CHECK(r.out == std::string(kDump) + kDumpEnd);
    CHECK(r.err.empty());

    const auto s = test::run({test::heapwise_exe(), "dump", "--stacks", path});
    CHECK(s.exited(0));
    CHECK(s.out.find("stack id=1 depth=2 own=2 base=0 base_from=0 frames=[0x401000,0x401010]\n") != std::string::npos);
    CHECK(s.out.find("fn=malloc frames=[0x401000,0x401010]\n") != std::string::npos);
}

TEST_CASE("stats counts and replays, in text and JSON", "[cli]") {
    test::TempDir dir;
    const auto path = (dir / "small.hwt").string();
    const Bytes trace = small_trace();
    test::write_file(path, trace);
    const auto r = test::run({test::heapwise_exe(), "stats", path});
    CHECK(r.exited(0));
    CHECK(r.out.find("allocations           2 (malloc 1, calloc 1)\n") != std::string::npos);
    CHECK(r.out.find("frees                 1 (free 1)\n") != std::string::npos);
    CHECK(r.out.find("bytes allocated       150 (150 B)\n") != std::string::npos);
    CHECK(r.out.find("peak heap             150 (150 B) in 2 blocks at 0.000004000 s\n") != std::string::npos);
    CHECK(r.out.find("live at end           50 (50 B) in 1 blocks\n") != std::string::npos);
    CHECK(r.out.find("inconsistencies       0 ") != std::string::npos);
    CHECK(r.out.find("end                   exit (writer counted 3 events, 0 lost)\n") != std::string::npos);

    const auto j = test::run({test::heapwise_exe(), "stats", "--json", path});
    REQUIRE(j.exited(0));
    const auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["schema"] == "heapwise-stats");
    CHECK(doc["events"] == 3);
    CHECK(doc["allocations"]["count"] == 2);
    CHECK(doc["allocations"]["by_function"]["calloc"] == 1);
    CHECK(doc["frees"]["count"] == 1);
    CHECK(doc["bytes_allocated"] == 150);
    CHECK(doc["peak"]["bytes"] == 150);
    CHECK(doc["peak"]["time_ns"] == 4000);
    CHECK(doc["live_at_end"]["bytes"] == 50);
    CHECK(doc["threads"] == 1);
    CHECK(doc["stacks"] == 1);
    CHECK(doc["markers"]["labels"] == nlohmann::json::array({"snap"}));
    CHECK(doc["rss"]["max_bytes"] == 8192);
    CHECK(doc["duration_ns"] == 8000);
    CHECK(doc["process"]["pid"] == 4242);
    CHECK(doc["file"]["size"] == trace.size());
    CHECK(doc["inconsistencies"]["free_of_unknown"] == 0);
    CHECK(doc["damage"]["count"] == 0);
}

TEST_CASE("damaged traces: what is good, then one line with the offset, exit 1", "[cli]") {
    test::TempDir dir;
    const Bytes trace = small_trace();
    const std::size_t second = trace.size() - test::block_bytes(end_block()).size();

    const auto cut = (dir / "cut.hwt").string();
    test::write_file(cut, Bytes(trace.begin(), trace.end() - 3));
    const auto d = test::run({test::heapwise_exe(), "dump", cut});
    CHECK(d.exited(1));
    CHECK(d.out == std::string(kDump) + "# damaged: truncated at byte " + std::to_string(trace.size() - 3) +
                       ": the block at byte " + std::to_string(second) + " needs " +
                       std::to_string(trace.size() - second - 24) + " payload bytes, the file holds " +
                       std::to_string(trace.size() - second - 27) + "; no valid block after it\n");
    REQUIRE(d.err_lines().size() == 1);
    CHECK(d.err_lines()[0] == "heapwise: " + cut + ": truncated at byte " + std::to_string(trace.size() - 3) +
                                  ": the block at byte " + std::to_string(second) + " needs " +
                                  std::to_string(trace.size() - second - 24) +
                                  " payload bytes, the file holds " +
                                  std::to_string(trace.size() - second - 27) + "; no valid block after it");
    const auto s = test::run({test::heapwise_exe(), "stats", cut});
    CHECK(s.exited(1));
    CHECK(s.out.find("allocations           2 (malloc 1, calloc 1)\n") != std::string::npos);
    CHECK(s.out.find("end                   missing") != std::string::npos);
    CHECK(s.err_lines().size() == 1);

    const auto flipped = (dir / "flip.hwt").string();
    Bytes f = trace;
    f[60] ^= 1;  // inside the first block's payload (header at 32..55)
    test::write_file(flipped, f);
    const auto fl = test::run({test::heapwise_exe(), "stats", "--json", flipped});
    CHECK(fl.exited(1));
    REQUIRE(fl.err_lines().size() == 1);
    CHECK(fl.err_lines()[0] == "heapwise: " + flipped +
                                   ": corrupt block at byte 32: payload crc mismatch; resumed at the "
                                   "next valid block, byte " + std::to_string(second));
    const auto doc = nlohmann::json::parse(fl.out);
    CHECK(doc["damage"]["count"] == 1);
    CHECK(doc["damage"]["first"][0]["offset"] == 32);
    CHECK(doc["end"]["events"] == 3);
}

// The read-error library cannot be preloaded into a sanitized heapwise (the sanitizer's runtime
// must come first), so this case exists only in plain builds.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_CASE("a read error in the middle of the file: what was read, one line, exit 1", "[cli]") {
    test::TempDir dir;
    const Bytes trace = small_trace();
    const std::size_t second = trace.size() - test::block_bytes(end_block()).size();
    const auto path = (dir / "eio.hwt").string();
    test::write_file(path, trace);
    test::RunOptions eio;
    eio.env["LD_PRELOAD"] = test::env_or_fail("HEAPWISE_EIO_PRELOAD");
    eio.env["HW_EIO_AT"] = std::to_string(second);
    const std::string what = "read error at byte " + std::to_string(second) +
                             ": Input/output error; nothing after it was read";

    const auto d = test::run({test::heapwise_exe(), "dump", path}, eio);
    CHECK(d.exited(1));
    CHECK(d.out == std::string(kDump) + "# damaged: " + what + "\n");
    CHECK(d.err == "heapwise: " + path + ": " + what + "\n");

    const auto s = test::run({test::heapwise_exe(), "stats", "--json", path}, eio);
    CHECK(s.exited(1));
    CHECK(s.err == "heapwise: " + path + ": " + what + "\n");
    const auto doc = nlohmann::json::parse(s.out);
    CHECK(doc["allocations"]["count"] == 2);
    CHECK(doc["frees"]["count"] == 1);
    CHECK(doc["damage"]["count"] == 1);
    CHECK(doc["damage"]["first"][0]["offset"] == second);

    const auto r = test::run({test::heapwise_exe(), "report", path}, eio);
    CHECK(r.exited(1));
    const auto lines = r.err_lines();
    CHECK(std::find(lines.begin(), lines.end(),
                    "heapwise: " + path + ": " + what + "; the report covers the readable blocks") != lines.end());

    // Without the failing reads the same file is clean: the error came from the read alone.
    CHECK(test::run({test::heapwise_exe(), "stats", path}).exited(0));
}
#endif

TEST_CASE("unusable input: one line, exit 2", "[cli]") {
    test::TempDir dir;
    const auto empty = (dir / "empty.hwt").string();
    test::write_file(empty, {});
    const auto script = (dir / "script.sh").string();
    test::write_file(script, Bytes{'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n'});
    const auto future = (dir / "future.hwt").string();
    test::write_file(future, test::file_header_bytes(2, 0));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {empty, "heapwise: " + empty + ": not a heapwise trace: the file is empty"},
        {script, "heapwise: " + script + ": not a heapwise trace: no HEAPWISE magic at byte 0"},
        {future, "heapwise: " + future + ": unsupported trace version 2.0 (this reader reads 1.x)"},
        {(dir / "missing.hwt").string(),
         "heapwise: " + (dir / "missing.hwt").string() + ": cannot open: No such file or directory"},
        {dir.path().string(), "heapwise: " + dir.path().string() + ": cannot read: Is a directory"},
    };
    for (const auto& [path, line] : cases) {
        for (const char* cmd : {"dump", "stats"}) {
            INFO(cmd << " " << path);
            const auto r = test::run({test::heapwise_exe(), cmd, path});
            CHECK(r.exited(2));
            CHECK(r.out.empty());
            CHECK(r.err == line + "\n");
        }
    }
}

TEST_CASE("command-line mistakes: one line, exit 2", "[cli]") {
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{}, {"frobnicate"}, {"dump"}, {"stats", "--bogus", "x"},
                                               {"dump", "a", "b"}}) {
        std::vector<std::string> argv = {test::heapwise_exe()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = test::run(argv);
        INFO(r.err);
        CHECK(r.exited(2));
        REQUIRE(r.err_lines().size() == 1);
        CHECK(r.err_lines()[0].rfind("heapwise: ", 0) == 0);
    }
    const auto help = test::run({test::heapwise_exe(), "--help"});
    CHECK(help.exited(0));
    CHECK(help.out.find("record") != std::string::npos);
}
