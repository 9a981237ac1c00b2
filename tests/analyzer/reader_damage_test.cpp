// The reader on damaged files: cut at every offset, every byte flipped, a damaged middle block,
// LZ4 payloads that pass their crc but do not decode to raw_size bytes, codecs of a later minor.
// It must never crash, must name the offset where the damage is, and must deliver every event
// of every intact block.
#include <lz4.h>

#include <catch2/catch.hpp>

#include "analyzer/trace_reader.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::Bytes;
using test::RecordWriter;
using K = format::RecordKind;
using Codec = format::BlockFlags;

namespace {

// Three blocks of 4 RSS samples each (values identify the block); first block has ProcessInfo.
struct ThreeBlocks {
    Bytes file;
    std::vector<std::uint64_t> block_offsets;
};

// The records of block b of three_blocks().
Bytes block_records(int b) {
    RecordWriter w;
    if (b == 0) test::append(w.out, test::process_info_record());
    for (int i = 0; i < 4; ++i) w.kind(K::kRss).var(1).var(static_cast<std::uint64_t>(b * 100 + i));
    return w.out;
}

// middle: when set, the stored bytes of the middle block, written under that block's header
// fields (flags, raw_size) with valid crcs.
struct Middle {
    std::uint32_t flags;
    Bytes stored;
    std::uint32_t raw_size;
};

ThreeBlocks three_blocks(Codec codec = Codec::kZstd, const Middle* middle = nullptr) {
    ThreeBlocks t;
    t.file = test::file_header_bytes();
    for (int b = 0; b < 3; ++b) {
        t.block_offsets.push_back(t.file.size());
        if (b == 1 && middle != nullptr)
            test::append(t.file, test::block_with_payload(middle->flags, middle->stored, middle->raw_size));
        else
            test::append(t.file, test::block_bytes(block_records(b), codec));
    }
    return t;
}

constexpr Codec kCodecs[] = {Codec::kZstd, Codec::kRaw, Codec::kLz4};

std::vector<std::uint64_t> rss_values(const TraceContents& c) {
    std::vector<std::uint64_t> v;
    for (const auto& e : c.events)
        if (const auto* r = std::get_if<Rss>(&e)) v.push_back(r->rss_bytes);
    return v;
}

// A file holding only a block header with these flags and sizes (valid magic and header crc),
// read whole: the reader must reject the sizes before reading or allocating a payload.
TraceContents read_lone_header(std::uint32_t flags, std::uint32_t stored, std::uint32_t raw) {
    Bytes file = test::file_header_bytes();
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = flags;
    h.stored_size = stored;
    h.raw_size = raw;
    h.header_crc = format::block_header_crc(h);
    Bytes hb(sizeof(h));
    std::memcpy(hb.data(), &h, sizeof(h));
    test::append(file, hb);
    test::TempDir dir;
    test::write_file(dir / "big.hwt", file);
    return read_all(dir / "big.hwt");
}

}  // namespace

TEST_CASE("a file cut at any offset reads its whole blocks and names the cut", "[reader]") {
    for (const Codec codec : kCodecs) {
        const ThreeBlocks t = three_blocks(codec);
        test::TempDir dir;
        const auto path = dir / "cut.hwt";
        for (std::size_t cut = 0; cut <= t.file.size(); ++cut) {
            INFO("codec " << static_cast<int>(codec) << " cut at " << cut);
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
    for (const Codec codec : {Codec::kZstd, Codec::kLz4}) {
        const ThreeBlocks t = three_blocks(codec);
        test::TempDir dir;
        const auto path = dir / "flip.hwt";
        for (std::size_t i = 0; i < t.file.size(); ++i) {
            INFO("codec " << static_cast<int>(codec) << " flipped byte " << i);
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
}

TEST_CASE("resynchronizes past a damaged middle block and garbage", "[reader]") {
    for (const Codec codec : kCodecs) {
        INFO("codec " << static_cast<int>(codec));
        ThreeBlocks t = three_blocks(codec);
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
}

TEST_CASE("a block header whose sizes are impossible is rejected before any allocation",
          "[reader]") {
    const auto c = read_lone_header(0, format::kMaxBlockRawSize + 1, format::kMaxBlockRawSize + 1);
    REQUIRE(c.summary.damaged == 1);
    CHECK(c.summary.damage[0].kind() == ErrorKind::kCorruptBlock);
    CHECK(c.summary.damage[0].offset() == sizeof(format::FileHeader));
}

namespace {

constexpr auto kLz4Flags = static_cast<std::uint32_t>(Codec::kLz4);

// A middle block worth compressing: 64 RSS records cycling through four values, so the LZ4
// stream has matches as well as literals; `stored` is their LZ4 block, `raw` their size.
struct Lz4Middle {
    Bytes records;
    Bytes stored;
    std::uint32_t raw = 0;
};
Lz4Middle lz4_middle() {
    RecordWriter w;
    for (int i = 0; i < 64; ++i) w.kind(K::kRss).var(1).var(static_cast<std::uint64_t>(100 + i % 4));
    Lz4Middle m{w.out, test::lz4_block_payload(w.out), static_cast<std::uint32_t>(w.out.size())};
    return m;
}

// Reads three_blocks with the given middle block; checks the middle block is the one damage and
// the outer blocks read in full. Returns the damage.
TraceError read_with_bad_middle(const Middle& m, const test::TempDir& dir) {
    const ThreeBlocks t = three_blocks(Codec::kLz4, &m);
    test::write_file(dir / "m.hwt", t.file);
    const auto c = read_all(dir / "m.hwt");
    REQUIRE(c.summary.damaged == 1);
    CHECK(c.summary.damage[0].offset() == t.block_offsets[1]);
    CHECK(rss_values(c) == std::vector<std::uint64_t>{0, 1, 2, 3, 200, 201, 202, 203});
    return c.summary.damage[0];
}

std::string resumed(const ThreeBlocks& t) {
    return "; resumed at the next valid block, byte " + std::to_string(t.block_offsets[2]);
}

}  // namespace

TEST_CASE("an LZ4 block whose raw_size lies is damage with its offset; the next block reads",
          "[reader][lz4]") {
    const auto [records, stored, raw] = lz4_middle();
    REQUIRE(stored.size() < records.size());  // really compressed: matches, not only literals
    test::TempDir dir;
    {
        const Middle good{kLz4Flags, stored, raw};
        const ThreeBlocks t = three_blocks(Codec::kLz4, &good);
        test::write_file(dir / "good.hwt", t.file);
        const auto c = read_all(dir / "good.hwt");
        CHECK(c.summary.clean());
        CHECK(rss_values(c).size() == 4 + 64 + 4);
    }
    // A raw_size above the real one is caught after decoding; one below it stops LZ4 short.
    for (const std::uint32_t lie :
         {raw + 1, raw + 1000, format::kMaxBlockRawSize, raw - 1, raw / 2, 0u}) {
        INFO("raw_size " << lie << " for " << raw);
        const Middle m{kLz4Flags, stored, lie};
        const ThreeBlocks t = three_blocks(Codec::kLz4, &m);
        const TraceError e = read_with_bad_middle(m, dir);
        const std::string why =
            lie > raw ? "lz4 block decodes to " + std::to_string(raw) + " bytes, not " + std::to_string(lie)
                      : "lz4 block is malformed or decodes to more than " + std::to_string(lie) + " bytes";
        CHECK(e.kind() == ErrorKind::kCorruptBlock);
        CHECK(std::string(e.what()) ==
              "corrupt block at byte " + std::to_string(t.block_offsets[1]) + ": " + why + resumed(t));
    }
}

TEST_CASE("a truncated LZ4 payload with a recomputed crc is damage; the next block reads",
          "[reader][lz4]") {
    const auto [records, stored, raw] = lz4_middle();
    test::TempDir dir;
    for (std::size_t keep = 1; keep < stored.size(); ++keep) {
        INFO("payload cut to " << keep << " of " << stored.size() << " bytes");
        const Middle m{kLz4Flags, Bytes(stored.begin(), stored.begin() + static_cast<long>(keep)), raw};
        const ThreeBlocks t = three_blocks(Codec::kLz4, &m);
        const TraceError e = read_with_bad_middle(m, dir);
        CHECK(e.kind() == ErrorKind::kCorruptBlock);
        const std::string prefix = "corrupt block at byte " + std::to_string(t.block_offsets[1]) + ": lz4 block ";
        CHECK(std::string(e.what()).rfind(prefix, 0) == 0);
    }
    // An empty LZ4 payload is not a block at all (an LZ4 block has at least its token).
    const Middle empty{kLz4Flags, Bytes{}, raw};
    const TraceError e = read_with_bad_middle(empty, dir);
    CHECK(e.kind() == ErrorKind::kCorruptBlock);
    CHECK(std::string(e.what()).find(": impossible sizes or flags (flags 2, stored 0, raw " +
                                     std::to_string(raw) + ")") != std::string::npos);
}

TEST_CASE("bit flips inside an LZ4 payload with a recomputed crc never break the reader",
          "[reader][lz4]") {
    const auto [records, stored, raw] = lz4_middle();
    test::TempDir dir;
    int lz4_errors = 0, same_size = 0;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            INFO("payload byte " << i << " bit " << bit);
            Bytes flipped = stored;
            flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
            const Middle m{kLz4Flags, flipped, raw};
            const ThreeBlocks t = three_blocks(Codec::kLz4, &m);
            test::write_file(dir / "f.hwt", t.file);
            const auto c = read_all(dir / "f.hwt");
            // The outer blocks always read in full, in order; the middle one may decode to other
            // records of the right size (a flipped literal) or be reported, never anything else.
            const auto v = rss_values(c);
            REQUIRE(v.size() >= 8);
            CHECK(std::vector<std::uint64_t>(v.begin(), v.begin() + 4) == std::vector<std::uint64_t>{0, 1, 2, 3});
            CHECK(std::vector<std::uint64_t>(v.end() - 4, v.end()) == std::vector<std::uint64_t>{200, 201, 202, 203});
            REQUIRE(c.summary.damaged <= 1);
            if (c.summary.damaged == 0) {
                ++same_size;
                continue;
            }
            const TraceError& e = c.summary.damage[0];
            CHECK(e.offset() == t.block_offsets[1]);
            const bool lz4_error = e.kind() == ErrorKind::kCorruptBlock;
            CHECK((lz4_error || e.kind() == ErrorKind::kBadRecord));
            if (lz4_error) {
                ++lz4_errors;
                CHECK(std::string(e.what()).find(": lz4 block ") != std::string::npos);
            }
        }
    }
    // Both outcomes happen: the test reaches the decoder's checks, not only the record decoder.
    CHECK(lz4_errors > 0);
    CHECK(same_size > 0);
}

TEST_CASE("a block of a codec this reader does not know is reported and skipped", "[reader][lz4]") {
    test::TempDir dir;
    for (const std::uint32_t flags : {3u, 0xffffffffu}) {
        INFO("flags " << flags);
        const Middle m{flags, block_records(1), 0};
        const ThreeBlocks t = three_blocks(Codec::kLz4, &m);
        const TraceError e = read_with_bad_middle(m, dir);
        CHECK(e.kind() == ErrorKind::kUnsupportedVersion);
        CHECK(std::string(e.what()) == "unsupported block at byte " + std::to_string(t.block_offsets[1]) +
                                           ": codec " + std::to_string(flags) +
                                           " is unknown to this reader (trace version 1.2, this "
                                           "reader reads up to 1.2); block skipped" + resumed(t));
    }
    // A whole file of an unknown codec: every block reported, nothing misread.
    Bytes file = test::file_header_bytes(1, 9);
    std::vector<std::uint64_t> offsets;
    for (int b = 0; b < 3; ++b) {
        offsets.push_back(file.size());
        test::append(file, test::block_with_payload(7, block_records(b), 0));
    }
    test::write_file(dir / "future.hwt", file);
    const auto c = read_all(dir / "future.hwt");
    CHECK(c.events.empty());
    REQUIRE(c.summary.damaged == 3);
    for (int b = 0; b < 3; ++b) {
        CHECK(c.summary.damage[static_cast<std::size_t>(b)].kind() == ErrorKind::kUnsupportedVersion);
        CHECK(c.summary.damage[static_cast<std::size_t>(b)].offset() == offsets[static_cast<std::size_t>(b)]);
    }
    CHECK(std::string(c.summary.damage[2].what()) ==
          "unsupported block at byte " + std::to_string(offsets[2]) +
              ": codec 7 is unknown to this reader (trace version 1.9, this reader reads up to 1.2); "
              "block skipped; no valid block after it");
}

TEST_CASE("LZ4 and unknown-codec headers whose sizes are impossible are rejected", "[reader][lz4]") {
    struct Case {
        std::uint32_t flags, stored, raw;
    };
    for (const Case k : {Case{2, LZ4_COMPRESSBOUND(format::kMaxBlockRawSize) + 1, 100},
                         Case{2, 0, 100}, Case{9, format::kMaxBlockStoredSize + 1, 0}}) {
        INFO("flags " << k.flags << " stored " << k.stored);
        const auto c = read_lone_header(k.flags, k.stored, k.raw);
        REQUIRE(c.summary.damaged == 1);
        CHECK(c.summary.damage[0].kind() == ErrorKind::kCorruptBlock);
        CHECK(std::string(c.summary.damage[0].what()) ==
              "corrupt block at byte 32: impossible sizes or flags (flags " + std::to_string(k.flags) +
                  ", stored " + std::to_string(k.stored) + ", raw " + std::to_string(k.raw) +
                  "); no valid block after it");
    }
}
