// Every block codec end to end (suite 'e2e'): one deterministic program recorded under the real
// shim with `heapwise record --compression` for each codec writes blocks of exactly that codec,
// and `heapwise stats --json` finds the same heap in each (fields that describe the run rather
// than the heap, such as pid and times, left out); and the LZ4 trace's blocks re-written by the
// tracer's own writer with every codec give byte-identical `stats --json` output.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analyzer/block_reader.hpp"
#include "encoder.hpp"
#include "run_process.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using Codec = format::BlockFlags;

namespace {

// The flags of every block, from the headers; fails on a file that does not frame cleanly.
std::vector<std::uint32_t> block_flags(const std::filesystem::path& path) {
    const test::Bytes b = test::read_file(path);
    REQUIRE(b.size() >= sizeof(format::FileHeader));
    std::vector<std::uint32_t> flags;
    std::size_t off = sizeof(format::FileHeader);
    while (off < b.size()) {
        format::BlockHeader h;
        REQUIRE(off + sizeof(h) <= b.size());
        std::memcpy(&h, b.data() + off, sizeof(h));
        REQUIRE(h.header_crc == format::block_header_crc(h));
        flags.push_back(h.flags);
        off += sizeof(h) + h.stored_size;
    }
    CHECK(off == b.size());
    return flags;
}

nlohmann::json stats(const std::filesystem::path& path) {
    const auto r = test::run({test::heapwise_exe(), "stats", "--json", path.string()});
    INFO(r.err);
    REQUIRE(r.exited(0));
    return nlohmann::json::parse(r.out);
}

// stats --json without what differs from run to run of the same program: identity, clock
// readings, RSS sampling, the file itself and the record count (RSS records are timer-driven).
nlohmann::json heap_only(nlohmann::json j) {
    for (const char* k : {"duration_ns", "file", "bytes_per_event", "records", "rss"}) j.erase(k);
    for (const char* k : {"pid", "ppid", "start_unix_ns"}) j["process"].erase(k);
    j["peak"].erase("time_ns");
    return j;
}

std::filesystem::path record(const test::TempDir& dir, const std::string& name,
                             const std::vector<std::string>& options) {
    test::RunOptions o;
    o.cwd = dir.path();
    o.unset = {"HEAPWISE_PRELOAD", "HEAPWISE_OUTPUT", "HEAPWISE_COMPRESSION", "LD_PRELOAD"};
    o.env["HEAPWISE_PRELOAD"] = test::env_or_fail("HEAPWISE_SHIM");
    std::vector<std::string> argv = {test::heapwise_exe(), "record", "-o", name};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    argv.push_back(test::env_or_fail("HEAPWISE_CODEC_PROGRAM"));
    const auto r = test::run(argv, o);
    INFO(r.err);
    REQUIRE(r.exited(0));
    REQUIRE(std::filesystem::exists(dir / name));
    return dir / name;
}

// Re-writes a trace's blocks, decompressed by the analyzer's reader, with the tracer's writer.
void rewrite(const std::filesystem::path& from, const std::filesystem::path& to, env::Compression c) {
    analyzer::BlockReader in(from);
    const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    preload::TraceFileWriter out(c);
    REQUIRE(out.open(fd));
    for (auto step = in.next(); step.kind != analyzer::BlockReader::Step::Kind::kEnd; step = in.next()) {
        REQUIRE(step.kind == analyzer::BlockReader::Step::Kind::kBlock);
        REQUIRE(out.write_block(step.records));
    }
    ::close(fd);
}

}  // namespace

TEST_CASE("each codec recorded under the shim: its own blocks, the same heap", "[cli][e2e][lz4]") {
    test::TempDir dir;
    struct Case {
        std::vector<std::string> options;
        Codec codec;
    };
    const Case cases[] = {
        {{"--compression", "lz4"}, Codec::kLz4},    {{"--compression", "zstd"}, Codec::kZstd},
        {{"--compression", "zstd:3"}, Codec::kZstd}, {{"--compression", "none"}, Codec::kRaw},
        {{"--compression", "2"}, Codec::kZstd},      {{}, Codec::kLz4},  // the default
    };
    std::optional<nlohmann::json> first;
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        const Case& k = cases[i];
        INFO("options " << (k.options.empty() ? "(default)" : k.options.back()));
        const auto path = record(dir, "t" + std::to_string(i) + ".hwt", k.options);
        const auto flags = block_flags(path);
        REQUIRE_FALSE(flags.empty());
        CHECK(flags == std::vector<std::uint32_t>(flags.size(), static_cast<std::uint32_t>(k.codec)));
        const nlohmann::json s = stats(path);
        CHECK(s["damage"]["count"] == 0);
        CHECK(s["inconsistencies"]["free_of_unknown"] == 0);
        CHECK(s["inconsistencies"]["alloc_of_live"] == 0);
        // The program's own pattern is in every trace: 20000 churn blocks and 32 kept at exit.
        CHECK(s["allocations"]["count"].get<std::uint64_t>() >= 20000 + 64 + 1);
        CHECK(s["live_at_end"]["blocks"].get<std::uint64_t>() >= 32);
        if (!first) {
            first = heap_only(s);
        } else {
            CHECK(heap_only(s) == *first);
        }
    }
}

TEST_CASE("one shim-made trace re-written with every codec: identical stats --json", "[cli][e2e][lz4]") {
    test::TempDir dir;
    const auto lz4 = record(dir, "lz4.hwt", {"--compression", "lz4"});
    REQUIRE(block_flags(lz4).front() == static_cast<std::uint32_t>(Codec::kLz4));
    const auto reference = stats(lz4);
    for (const env::Compression c : {env::Compression{Codec::kLz4, 0}, env::Compression{Codec::kZstd, 1},
                                     env::Compression{Codec::kZstd, 19}, env::Compression{Codec::kRaw, 0}}) {
        INFO("codec " << static_cast<int>(c.codec) << " level " << c.level);
        // Same name in another directory: the JSON names the file's path, and its size differs.
        test::TempDir other;
        const auto path = other / "lz4.hwt";
        rewrite(lz4, path, c);
        CHECK(block_flags(path) == std::vector<std::uint32_t>(block_flags(lz4).size(), static_cast<std::uint32_t>(c.codec)));
        nlohmann::json s = stats(path);
        nlohmann::json want = reference;
        for (nlohmann::json* j : {&s, &want}) {
            (*j)["file"].erase("path");
            (*j)["file"].erase("size");
            j->erase("bytes_per_event");
        }
        CHECK(s.dump(2) == want.dump(2));
    }
}
