// A small reader for the unit tests: every record of a trace file as a flat struct, decoded with
// trace_format.hpp's helpers (the analyzer has the real reader; this one keeps the shim's tests
// independent of it).
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <lz4.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "heapwise/trace_format.hpp"

namespace hwtest {

namespace fmt = heapwise::format;

struct Rec {
    fmt::RecordKind kind{};
    std::uint64_t time = 0;  // absolute ticks
    std::uint64_t thread = 0, addr = 0, size = 0, stack = 0, id = 0, base = 0, base_from = 0;
    std::uint8_t fn = 0;
    std::string text;                 // label, name, path
    std::vector<std::uint64_t> frames;  // kStack: own frames; kEnd: totals
};

inline std::vector<Rec> read_trace(const std::string& path) {
    std::vector<std::uint8_t> file;
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::uint8_t buf[1 << 16];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) file.insert(file.end(), buf, buf + n);
    ::close(fd);
    REQUIRE(file.size() >= sizeof(fmt::FileHeader));
    REQUIRE(std::memcmp(file.data(), fmt::kFileMagic.data(), 8) == 0);
    std::vector<Rec> out;
    std::size_t off = sizeof(fmt::FileHeader);
    while (off < file.size()) {
        fmt::BlockHeader bh;
        REQUIRE(off + sizeof(bh) <= file.size());
        std::memcpy(&bh, file.data() + off, sizeof(bh));
        off += sizeof(bh);
        REQUIRE(bh.header_crc == fmt::block_header_crc(bh));
        REQUIRE(off + bh.stored_size <= file.size());
        REQUIRE(bh.payload_crc == fmt::crc32c(file.data() + off, bh.stored_size));
        std::vector<std::uint8_t> raw(bh.raw_size);
        if (bh.flags == 1) {
            REQUIRE(ZSTD_decompress(raw.data(), raw.size(), file.data() + off, bh.stored_size) == bh.raw_size);
        } else if (bh.flags == 2) {
            REQUIRE(LZ4_decompress_safe(reinterpret_cast<const char*>(file.data() + off),
                                        reinterpret_cast<char*>(raw.data()), static_cast<int>(bh.stored_size),
                                        static_cast<int>(raw.size())) == static_cast<int>(bh.raw_size));
        } else {
            REQUIRE(bh.flags == 0);
            std::memcpy(raw.data(), file.data() + off, bh.stored_size);
        }
        off += bh.stored_size;
        const std::uint8_t* p = raw.data();
        const std::uint8_t* end = p + raw.size();
        std::uint64_t t = 0, a = 0;
        auto var = [&] {
            std::uint64_t v = 0;
            REQUIRE(fmt::get_varint(p, end, v));
            return v;
        };
        auto u8 = [&] {
            REQUIRE(p < end);
            return *p++;
        };
        auto str = [&] {
            const std::uint64_t n = var();
            REQUIRE(static_cast<std::uint64_t>(end - p) >= n);
            std::string s(reinterpret_cast<const char*>(p), n);
            p += n;
            return s;
        };
        auto addr = [&] {
            a += static_cast<std::uint64_t>(fmt::unzigzag(var()));
            return a;
        };
        while (p < end) {
            Rec r;
            r.kind = static_cast<fmt::RecordKind>(u8());
            using K = fmt::RecordKind;
            if (static_cast<std::uint8_t>(r.kind) >= fmt::kFirstSizedKind) {  // len, then fields
                const std::uint64_t len = var();
                REQUIRE(static_cast<std::uint64_t>(end - p) >= len);
                const std::uint8_t* next = p + len;
                if (static_cast<std::uint8_t>(r.kind) == static_cast<std::uint8_t>(fmt::SizedKind::kInternalStack)) {
                    r.id = var();
                }
                p = next;
                out.push_back(std::move(r));
                continue;
            }
            if (r.kind != K::kPadding && r.kind != K::kProcessInfo && r.kind != K::kStack) {
                t += var();
                r.time = t;
            }
            switch (r.kind) {
                case K::kPadding: break;
                case K::kProcessInfo: {
                    for (int i = 0; i < 5; ++i) r.frames.push_back(var());  // pid ppid unix mono tick
                    u8();
                    r.fn = u8();  // mode
                    r.size = var();  // sample interval
                    u8();
                    var();
                    r.text = str();  // exe
                    str();
                    for (std::uint64_t n = var(); n > 0; --n) str();
                    str();
                    break;
                }
                case K::kModuleLoad: {
                    r.id = var();
                    var();
                    r.text = str();
                    str();
                    for (std::uint64_t n = var(); n > 0; --n) {
                        var();
                        var();
                        var();
                        u8();
                    }
                    break;
                }
                case K::kModuleUnload: r.id = var(); break;
                case K::kThreadStart:
                    r.thread = var();
                    r.size = var();  // tid
                    r.text = str();
                    break;
                case K::kThreadExit: r.thread = var(); break;
                case K::kThreadName:
                    r.thread = var();
                    r.text = str();
                    break;
                case K::kStack: {
                    r.id = var();
                    u8();
                    const std::uint64_t n = var();
                    std::uint64_t f = 0;
                    for (std::uint64_t i = 0; i < n; ++i) {
                        f = i == 0 ? var() : f + static_cast<std::uint64_t>(fmt::unzigzag(var()));
                        r.frames.push_back(f);
                    }
                    r.base = var();
                    r.base_from = var();
                    break;
                }
                case K::kAlloc:
                    r.thread = var();
                    r.addr = addr();
                    r.size = var();
                    r.stack = var();
                    r.fn = u8();
                    break;
                case K::kFree:
                    r.thread = var();
                    r.addr = addr();
                    r.fn = u8();
                    break;
                case K::kReallocFailed:
                    r.thread = var();
                    r.addr = addr();
                    break;
                case K::kMarker:
                    r.thread = var();
                    r.fn = u8();
                    r.text = str();
                    break;
                case K::kRss: r.size = var(); break;
                case K::kLost:
                    r.thread = var();
                    for (int i = 0; i < 3; ++i) r.frames.push_back(var());
                    break;
                case K::kEnd:
                    r.fn = u8();
                    for (int i = 0; i < 7; ++i) r.frames.push_back(var());
                    break;
                default: FAIL("unknown record kind " << static_cast<int>(r.kind));
            }
            out.push_back(std::move(r));
        }
    }
    return out;
}

// The full frames of stack `id` (own frames, then the base's from base_from on).
inline std::vector<std::uint64_t> full_stack(const std::vector<Rec>& recs, std::uint64_t id) {
    for (const Rec& r : recs) {
        if (r.kind != fmt::RecordKind::kStack || r.id != id) continue;
        std::vector<std::uint64_t> f = r.frames;
        if (r.base != 0) {
            const auto b = full_stack(recs, r.base);
            f.insert(f.end(), b.begin() + static_cast<long>(r.base_from), b.end());
        }
        return f;
    }
    return {};
}

}  // namespace hwtest
