// Round trip of every record kind through BlockEncoder, decoded here with trace_format.hpp's
// helpers; and a real file written by TraceFileWriter with each codec, read back, checksums
// verified and the zstd and LZ4 blocks decompressed to the same bytes.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <lz4.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "encoder.hpp"

using namespace heapwise;
using heapwise::preload::BlockEncoder;

namespace {

struct Reader {
    const std::uint8_t* p;
    const std::uint8_t* end;
    std::uint64_t var() {
        std::uint64_t v = 0;
        REQUIRE(format::get_varint(p, end, v));
        return v;
    }
    std::int64_t svar() { return format::unzigzag(var()); }
    std::uint8_t u8() {
        REQUIRE(p < end);
        return *p++;
    }
    std::string str() {
        const std::uint64_t n = var();
        REQUIRE(static_cast<std::uint64_t>(end - p) >= n);
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        return s;
    }
    format::RecordKind kind() { return static_cast<format::RecordKind>(u8()); }
};

}  // namespace

TEST_CASE("every record kind round-trips with time and address deltas", "[preload][encoder]") {
    BlockEncoder enc(4096);
    const std::string_view argv[] = {"python3", "-c", "print(1)"};
    preload::ProcessInfoRecord pi;
    pi.pid = 4242;
    pi.ppid = 1;
    pi.start_unix_ns = 1'700'000'000'000'000'000ull;
    pi.start_monotonic_ns = 123456789;
    pi.tick_ns = 1000;
    pi.mode = format::Mode::kSampled;
    pi.sample_interval = 524288;
    pi.unwinder = format::Unwinder::kFramePointer;
    pi.max_depth = 48;
    pi.exe = "/usr/bin/python3.11";
    pi.cwd = "/tmp";
    pi.argv = argv;
    pi.options = "HEAPWISE_DEPTH=48\n";
    enc.process_info(pi);
    const std::uint8_t build_id[] = {0xde, 0xad, 0xbe, 0xef};
    const preload::SegmentRecord segs[] = {{0x1000, 0x2345, 0x1000, 5}, {0x4000, 0x100, 0x3000, 6}};
    enc.module_load(10, 1, 0x7f0000000000, "/lib/libc.so.6", build_id, segs);
    enc.thread_start(10, 0, 4242, "python3");
    const std::uintptr_t frames[] = {0x7f0000001234, 0x7f0000001000, 0x401000};
    enc.stack(1, frames, 0, 0);
    enc.stack(2, std::span(frames, 1), 1, 1);
    enc.alloc(15, 0, 0x5000'0010, 100, 1, format::AllocFn::kCalloc);
    enc.free(15, 0, 0x5000'0000, format::FreeFn::kRealloc);
    enc.realloc_failed(20, 0, 0x5000'0000);
    enc.marker(25, 0, format::MarkerSource::kCall, "after-load");
    enc.rss(30, 1 << 20);
    enc.lost(31, 0, 3, 2, 300);
    enc.thread_name(32, 0, "worker");
    enc.module_unload(33, 1);
    enc.thread_exit(40, 0);
    enc.padding();
    preload::EndRecord er{format::EndReason::kExec, 7, 3, 2, 400, 5, 2, 1};
    enc.end(50, er);
    REQUIRE(enc.ok());

    Reader r{enc.bytes().data(), enc.bytes().data() + enc.size()};
    CHECK(r.kind() == format::RecordKind::kProcessInfo);
    CHECK(r.var() == 4242);
    CHECK(r.var() == 1);
    CHECK(r.var() == 1'700'000'000'000'000'000ull);
    CHECK(r.var() == 123456789);
    CHECK(r.var() == 1000);
    CHECK(r.u8() == 8);
    CHECK(r.u8() == 2);
    CHECK(r.var() == 524288);
    CHECK(r.u8() == 2);
    CHECK(r.var() == 48);
    CHECK(r.str() == "/usr/bin/python3.11");
    CHECK(r.str() == "/tmp");
    REQUIRE(r.var() == 3);
    CHECK(r.str() == "python3");
    CHECK(r.str() == "-c");
    CHECK(r.str() == "print(1)");
    CHECK(r.str() == "HEAPWISE_DEPTH=48\n");

    CHECK(r.kind() == format::RecordKind::kModuleLoad);
    CHECK(r.var() == 10);  // first timed record: absolute
    CHECK(r.var() == 1);
    CHECK(r.var() == 0x7f0000000000);
    CHECK(r.str() == "/lib/libc.so.6");
    CHECK(r.str() == std::string("\xde\xad\xbe\xef"));
    REQUIRE(r.var() == 2);
    CHECK(r.var() == 0x1000);
    CHECK(r.var() == 0x2345);
    CHECK(r.var() == 0x1000);
    CHECK(r.u8() == 5);
    CHECK(r.var() == 0x4000);
    CHECK(r.var() == 0x100);
    CHECK(r.var() == 0x3000);
    CHECK(r.u8() == 6);

    CHECK(r.kind() == format::RecordKind::kThreadStart);
    CHECK(r.var() == 0);  // dt
    CHECK(r.var() == 0);
    CHECK(r.var() == 4242);
    CHECK(r.str() == "python3");

    CHECK(r.kind() == format::RecordKind::kStack);
    CHECK(r.var() == 1);
    CHECK(r.u8() == 0);
    REQUIRE(r.var() == 3);
    std::uint64_t f = r.var();
    CHECK(f == 0x7f0000001234);
    f += static_cast<std::uint64_t>(r.svar());
    CHECK(f == 0x7f0000001000);
    f += static_cast<std::uint64_t>(r.svar());
    CHECK(f == 0x401000);
    CHECK(r.var() == 0);
    CHECK(r.var() == 0);
    CHECK(r.kind() == format::RecordKind::kStack);
    CHECK(r.var() == 2);
    CHECK(r.u8() == 0);
    REQUIRE(r.var() == 1);
    CHECK(r.var() == 0x7f0000001234);
    CHECK(r.var() == 1);
    CHECK(r.var() == 1);

    CHECK(r.kind() == format::RecordKind::kAlloc);
    CHECK(r.var() == 5);
    CHECK(r.var() == 0);
    CHECK(r.svar() == 0x5000'0010);  // first address of the block: delta to 0
    CHECK(r.var() == 100);
    CHECK(r.var() == 1);
    CHECK(r.u8() == static_cast<std::uint8_t>(format::AllocFn::kCalloc));

    CHECK(r.kind() == format::RecordKind::kFree);
    CHECK(r.var() == 0);
    CHECK(r.var() == 0);
    CHECK(r.svar() == -0x10);
    CHECK(r.u8() == static_cast<std::uint8_t>(format::FreeFn::kRealloc));

    CHECK(r.kind() == format::RecordKind::kReallocFailed);
    CHECK(r.var() == 5);
    CHECK(r.var() == 0);
    CHECK(r.svar() == 0);

    CHECK(r.kind() == format::RecordKind::kMarker);
    CHECK(r.var() == 5);
    CHECK(r.var() == 0);
    CHECK(r.u8() == 0);
    CHECK(r.str() == "after-load");

    CHECK(r.kind() == format::RecordKind::kRss);
    CHECK(r.var() == 5);
    CHECK(r.var() == (1u << 20));

    CHECK(r.kind() == format::RecordKind::kLost);
    CHECK(r.var() == 1);
    CHECK(r.var() == 0);
    CHECK(r.var() == 3);
    CHECK(r.var() == 2);
    CHECK(r.var() == 300);

    CHECK(r.kind() == format::RecordKind::kThreadName);
    CHECK(r.var() == 1);
    CHECK(r.var() == 0);
    CHECK(r.str() == "worker");

    CHECK(r.kind() == format::RecordKind::kModuleUnload);
    CHECK(r.var() == 1);
    CHECK(r.var() == 1);

    CHECK(r.kind() == format::RecordKind::kThreadExit);
    CHECK(r.var() == 7);
    CHECK(r.var() == 0);

    CHECK(r.kind() == format::RecordKind::kPadding);

    CHECK(r.kind() == format::RecordKind::kEnd);
    CHECK(r.var() == 10);
    CHECK(r.u8() == static_cast<std::uint8_t>(format::EndReason::kExec));
    for (std::uint64_t want : {7, 3, 2, 400, 5, 2, 1}) CHECK(r.var() == want);
    CHECK(r.p == r.end);

    enc.reset();
    CHECK(enc.empty());
    enc.rss(1000, 1);
    Reader r2{enc.bytes().data(), enc.bytes().data() + enc.size()};
    CHECK(r2.kind() == format::RecordKind::kRss);
    CHECK(r2.var() == 1000);  // deltas restart after reset()
}

TEST_CASE("the encoder grows past its initial capacity", "[preload][encoder]") {
    BlockEncoder enc(4096);
    for (std::uint64_t i = 0; i < 10000; ++i) enc.alloc(i, 1, 0x1000 + 16 * i, i, 1, format::AllocFn::kMalloc);
    REQUIRE(enc.ok());
    Reader r{enc.bytes().data(), enc.bytes().data() + enc.size()};
    std::uint64_t addr = 0;
    for (std::uint64_t i = 0; i < 10000; ++i) {
        REQUIRE(r.kind() == format::RecordKind::kAlloc);
        REQUIRE(r.var() == (i == 0 ? 0 : 1));
        REQUIRE(r.var() == 1);
        addr += static_cast<std::uint64_t>(r.svar());
        REQUIRE(addr == 0x1000 + 16 * i);
        REQUIRE(r.var() == i);
        REQUIRE(r.var() == 1);
        REQUIRE(r.u8() == 0);
    }
    CHECK(r.p == r.end);
}

namespace {
std::vector<std::uint8_t> read_all(const std::string& path) {
    std::vector<std::uint8_t> out;
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::uint8_t buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        REQUIRE(n >= 0);
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    ::close(fd);
    return out;
}
}  // namespace

TEST_CASE("TraceFileWriter writes a header and checksummed blocks", "[preload][encoder]") {
    using Codec = format::BlockFlags;
    // The int constructor (a zstd level, 0 raw) and each codec by name.
    struct Case {
        int level;  // -1: use compression
        env::Compression compression;
        Codec want;
    };
    for (const Case k : {Case{0, {}, Codec::kRaw}, Case{1, {}, Codec::kZstd}, Case{-1, {Codec::kRaw, 0}, Codec::kRaw},
                         Case{-1, {Codec::kZstd, 3}, Codec::kZstd}, Case{-1, {Codec::kLz4, 0}, Codec::kLz4}}) {
        INFO("level " << k.level << " codec " << static_cast<int>(k.want));
        char dir[] = "/tmp/hw-enc-XXXXXX";
        REQUIRE(mkdtemp(dir) != nullptr);
        const std::string path = std::string(dir) + "/t.hwt";
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        BlockEncoder enc;
        std::vector<std::vector<std::uint8_t>> blocks;
        {
            preload::TraceFileWriter w = k.level >= 0 ? preload::TraceFileWriter(k.level)
                                                      : preload::TraceFileWriter(k.compression);
            REQUIRE(w.open(fd));
            for (int b = 0; b < 3; ++b) {
                enc.reset();
                for (int i = 0; i < 1000 * (b + 1); ++i) {
                    enc.alloc(static_cast<std::uint64_t>(i), 0, 0x10000u + 32u * static_cast<unsigned>(i % 50), 32, 1,
                              format::AllocFn::kMalloc);
                }
                blocks.emplace_back(enc.bytes().begin(), enc.bytes().end());
                REQUIRE(w.write_block(enc.bytes()));
            }
            CHECK(w.blocks_written() == 3);
            CHECK(w.error() == 0);
        }
        ::close(fd);
        const auto file = read_all(path);
        REQUIRE(file.size() >= sizeof(format::FileHeader));
        format::FileHeader fh;
        std::memcpy(&fh, file.data(), sizeof(fh));
        CHECK(fh.magic == format::kFileMagic);
        CHECK(fh.version_major == format::kVersionMajor);
        CHECK(fh.version_minor == format::kVersionMinor);
        CHECK(fh.header_size == sizeof(format::FileHeader));
        CHECK(fh.pointer_size == 8);
        std::size_t off = fh.header_size;
        for (const auto& want : blocks) {
            format::BlockHeader bh;
            REQUIRE(off + sizeof(bh) <= file.size());
            std::memcpy(&bh, file.data() + off, sizeof(bh));
            off += sizeof(bh);
            CHECK(bh.magic == format::kBlockMagic);
            CHECK(bh.header_crc == format::block_header_crc(bh));
            CHECK(bh.raw_size == want.size());
            REQUIRE(off + bh.stored_size <= file.size());
            CHECK(bh.payload_crc == format::crc32c(file.data() + off, bh.stored_size));
            std::vector<std::uint8_t> raw(bh.raw_size);
            CHECK(bh.flags == static_cast<std::uint32_t>(k.want));
            if (k.want == Codec::kRaw) {
                REQUIRE(bh.stored_size == bh.raw_size);
                std::memcpy(raw.data(), file.data() + off, bh.stored_size);
            } else if (k.want == Codec::kZstd) {
                CHECK(bh.stored_size < bh.raw_size);
                const std::size_t n =
                    ZSTD_decompress(raw.data(), raw.size(), file.data() + off, bh.stored_size);
                REQUIRE(n == bh.raw_size);
            } else {
                CHECK(bh.stored_size < bh.raw_size);
                const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(file.data() + off),
                                                  reinterpret_cast<char*>(raw.data()),
                                                  static_cast<int>(bh.stored_size), static_cast<int>(raw.size()));
                REQUIRE(n == static_cast<int>(bh.raw_size));
            }
            CHECK(raw == want);
            off += bh.stored_size;
        }
        CHECK(off == file.size());
        ::unlink(path.c_str());
        ::rmdir(dir);
    }
}

TEST_CASE("TraceFileWriter reports an I/O error and stays failed", "[preload][encoder]") {
    const int fd = ::open("/dev/full", O_WRONLY);
    REQUIRE(fd >= 0);
    preload::TraceFileWriter w(1);
    CHECK_FALSE(w.open(fd));
    CHECK(w.error() == ENOSPC);
    const std::uint8_t one[1] = {0};
    CHECK_FALSE(w.write_block(one));
    ::close(fd);
}

TEST_CASE("TraceFileWriter's LZ4 blocks: incompressible, growing, up to the largest block",
          "[preload][encoder]") {
    char dir[] = "/tmp/hw-enc-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/lz4.hwt";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    // A small block first, then larger ones: the output buffer grows between them.
    std::vector<std::vector<std::uint8_t>> blocks;
    std::uint64_t x = 88172645463325252ull;  // xorshift64: bytes no compressor can shrink
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    blocks.emplace_back(100);
    for (auto& b : blocks.back()) b = static_cast<std::uint8_t>(next());
    blocks.emplace_back(1u << 20);
    for (auto& b : blocks.back()) b = static_cast<std::uint8_t>(next());
    blocks.emplace_back(format::kMaxBlockRawSize);
    for (std::size_t i = 0; i < blocks.back().size(); ++i) blocks.back()[i] = static_cast<std::uint8_t>(i % 251);
    {
        preload::TraceFileWriter w(env::Compression{format::BlockFlags::kLz4, 0});
        REQUIRE(w.open(fd));
        for (const auto& b : blocks) REQUIRE(w.write_block(b));
        const std::vector<std::uint8_t> too_big(format::kMaxBlockRawSize + 1);
        CHECK_FALSE(w.write_block(too_big));
        CHECK(w.error() == EFBIG);
    }
    ::close(fd);
    const auto file = read_all(path);
    std::size_t off = sizeof(format::FileHeader);
    for (const auto& want : blocks) {
        format::BlockHeader bh;
        REQUIRE(off + sizeof(bh) <= file.size());
        std::memcpy(&bh, file.data() + off, sizeof(bh));
        off += sizeof(bh);
        CHECK(bh.flags == static_cast<std::uint32_t>(format::BlockFlags::kLz4));
        CHECK(bh.raw_size == want.size());
        CHECK(bh.stored_size <= static_cast<std::uint32_t>(LZ4_compressBound(static_cast<int>(want.size()))));
        REQUIRE(off + bh.stored_size <= file.size());
        CHECK(bh.payload_crc == format::crc32c(file.data() + off, bh.stored_size));
        std::vector<std::uint8_t> raw(want.size());
        REQUIRE(LZ4_decompress_safe(reinterpret_cast<const char*>(file.data() + off), reinterpret_cast<char*>(raw.data()),
                                    static_cast<int>(bh.stored_size), static_cast<int>(raw.size())) ==
                static_cast<int>(want.size()));
        CHECK(raw == want);
        off += bh.stored_size;
    }
    CHECK(off == file.size());
    ::unlink(path.c_str());
    ::rmdir(dir);
}
