// The reader on damaged files: cut at every offset, every byte flipped, a damaged middle block.
// It must never crash, must name the offset where the damage is, and must deliver every event
// of every intact block.
#include <catch2/catch.hpp>

#include "analyzer/trace_reader.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;

namespace {

// Three blocks of 4 RSS samples each (values identify the block); first block has ProcessInfo.
struct ThreeBlocks {
    Bytes file;
    std::vector<std::uint64_t> block_offsets;
};

ThreeBlocks three_blocks(bool zstd = true) {
    ThreeBlocks t;
    t.file = test::file_header_bytes();
    for (int b = 0; b < 3; ++b) {
        RecordWriter w;
        if (b == 0) test::append(w.out, test::process_info_record());
        for (int i = 0; i < 4; ++i) w.kind(K::kRss).var(1).var(static_cast<std::uint64_t>(b * 100 + i));
        t.block_offsets.push_back(t.file.size());
        test::append(t.file, test::block_bytes(w.out, zstd));
    }
    return t;
}

std::vector<std::uint64_t> rss_values(const TraceContents& c) {
    std::vector<std::uint64_t> v;
    for (const auto& e : c.events)
        if (const auto* r = std::get_if<Rss>(&e)) v.push_back(r->rss_bytes);
    return v;
}

}  // namespace

TEST_CASE("a file cut at any offset reads its whole blocks and names the cut", "[reader]") {
    for (bool zstd : {true, false}) {
        const ThreeBlocks t = three_blocks(zstd);
        test::TempDir dir;
        const auto path = dir / "cut.hwt";
        for (std::size_t cut = 0; cut <= t.file.size(); ++cut) {
            INFO("zstd " << zstd << " cut at " << cut);
            test::write_file(path, Bytes(t.file.begin(), t.file.begin() + static_cast<long>(cut)));
            std::optional<TraceContents> c;
            try {
                c = read_all(path);
            } catch (const TraceError& e) {
                CHECK(cut < sizeof(format::FileHeader));
                CHECK(e.kind() == (cut == 0 ? ErrorKind::kNotATrace : ErrorKind::kTruncated));
                CHECK(e.offset() == 0);
                if (cut > 0)
                    CHECK(std::string(e.what()) ==
                          "truncated at byte " + std::to_string(cut) +
                              ": the file ends inside the 32-byte file header");
                continue;
            }
            REQUIRE(cut >= sizeof(format::FileHeader));
            std::size_t whole = 0;
            while (whole < 3 && (whole + 1 == 3 ? t.file.size() : t.block_offsets[whole + 1]) <= cut)
                ++whole;
            CHECK(rss_values(*c).size() == 4 * whole);
            const bool at_boundary =
                cut == sizeof(format::FileHeader) || cut == t.file.size() ||
                std::find(t.block_offsets.begin(), t.block_offsets.end(), cut) != t.block_offsets.end();
            if (at_boundary) {
                CHECK(c->summary.clean());
            } else {
                REQUIRE(c->summary.damaged == 1);
                const TraceError& e = c->summary.damage.front();
                CHECK(e.kind() == ErrorKind::kTruncated);
                CHECK(e.offset() == t.block_offsets[whole]);
                CHECK(std::string(e.what()).find("truncated at byte " + std::to_string(
                          cut - t.block_offsets[whole] < sizeof(format::BlockHeader)
                              ? t.block_offsets[whole] : cut)) == 0);
            }
        }
    }
}

TEST_CASE("a flipped byte anywhere is caught, never crashes, and spares other blocks",
          "[reader]") {
    const ThreeBlocks t = three_blocks();
    test::TempDir dir;
    const auto path = dir / "flip.hwt";
    for (std::size_t i = 0; i < t.file.size(); ++i) {
        INFO("flipped byte " << i);
        Bytes b = t.file;
        b[i] ^= 0x20;
        test::write_file(path, b);
        if (i < sizeof(format::FileHeader)) {
            // Header bytes: magic, version or sizes; reserved fields do not matter.
            try {
                (void)read_all(path);
            } catch (const TraceError&) {
            }
            continue;
        }
        const auto c = read_all(path);
        REQUIRE(c.summary.damaged >= 1);
        const TraceError& e = c.summary.damage.front();
        CHECK(e.kind() == ErrorKind::kCorruptBlock);
        // The damaged block is lost; the other two read in full.
        std::size_t damaged_block = 0;
        while (damaged_block + 1 < 3 && t.block_offsets[damaged_block + 1] <= i) ++damaged_block;
        CHECK(e.offset() == t.block_offsets[damaged_block]);
        CHECK(rss_values(c).size() == 8);
        if (damaged_block == 0) CHECK(c.summary.damaged == 1);
    }
}

TEST_CASE("resynchronizes past a damaged middle block and garbage", "[reader]") {
    ThreeBlocks t = three_blocks();
    // Garbage between blocks 1 and 2 holding a fake block magic with a wrong header crc.
    Bytes garbage = {'x', 'H', 'W', 'B', 'K', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26};
    Bytes file(t.file.begin(), t.file.begin() + static_cast<long>(t.block_offsets[1]));
    test::append(file, garbage);
    const std::uint64_t second_at = file.size();
    file.insert(file.end(), t.file.begin() + static_cast<long>(t.block_offsets[1]), t.file.end());
    // Damage the middle block's payload.
    file[second_at + sizeof(format::BlockHeader) + 2] ^= 0xff;
    test::TempDir dir;
    test::write_file(dir / "r.hwt", file);
    const auto c = read_all(dir / "r.hwt");
    REQUIRE(c.summary.damaged == 2);
    CHECK(c.summary.damage[0].offset() == t.block_offsets[1]);
    CHECK(std::string(c.summary.damage[0].what()) ==
          "corrupt block at byte " + std::to_string(t.block_offsets[1]) +
              ": no block magic; resumed at the next valid block, byte " + std::to_string(second_at));
    CHECK(c.summary.damage[1].offset() == second_at);
    CHECK(c.summary.damage[1].kind() == ErrorKind::kCorruptBlock);
    CHECK(rss_values(c) == std::vector<std::uint64_t>{0, 1, 2, 3, 200, 201, 202, 203});
}

TEST_CASE("a block header whose sizes are impossible is rejected before any allocation",
          "[reader]") {
    Bytes file = test::file_header_bytes();
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = 0;
    h.stored_size = h.raw_size = format::kMaxBlockRawSize + 1;
    h.header_crc = format::block_header_crc(h);
    Bytes hb(sizeof(h));
    std::memcpy(hb.data(), &h, sizeof(h));
    test::append(file, hb);
    test::TempDir dir;
    test::write_file(dir / "big.hwt", file);
    const auto c = read_all(dir / "big.hwt");
    REQUIRE(c.summary.damaged == 1);
    CHECK(c.summary.damage[0].kind() == ErrorKind::kCorruptBlock);
    CHECK(c.summary.damage[0].offset() == sizeof(format::FileHeader));
}
