// The random traces of random_trace.hpp, built record by record with trace_bytes.hpp.
#include "random_trace.hpp"

#include <random>
#include <string>
#include <vector>

namespace heapwise::test {

using K = format::RecordKind;

namespace {

// One block's records with its own time and address deltas (both start at 0 in each block).
struct BlockWriter {
    RecordWriter w;
    std::uint64_t tick = 0;
    std::uint64_t addr = 0;
    void head(K kind, std::uint64_t t, std::uint32_t thread) {
        w.kind(kind).var(t - tick).var(thread);
        tick = t;
    }
    void at(std::uint64_t a) {
        w.svar(static_cast<std::int64_t>(a - addr));
        addr = a;
    }
};

Bytes process_info(std::uint64_t sample_interval) {
    RecordWriter w;
    w.kind(K::kProcessInfo)
        .var(4242).var(1).var(1'700'000'000'000'000'000ull).var(5'000'000).var(1)
        .u8(8).u8(static_cast<std::uint8_t>(sample_interval != 0 ? format::Mode::kSampled : format::Mode::kLossless))
        .var(sample_interval).u8(1).var(64)
        .str("/usr/bin/prog").str("/tmp").var(1).str("prog").str("");
    return w.out;
}

void internal_stack(RecordWriter& w, std::uint64_t id) {
    w.kind(K::kStack).var(id).u8(0).var(0).var(0).var(0);  // no frames
    w.u8(static_cast<std::uint8_t>(format::SizedKind::kInternalStack)).var(1).var(id);
}

}  // namespace

Bytes random_trace(std::uint64_t seed, int blocks, const TraceShape& shape) {
    const bool damage = shape.damage;
    std::mt19937_64 rng(seed);
    Bytes file = test::file_header_bytes();
    std::vector<std::uint64_t> live;
    std::uint64_t t = 0;
    for (int b = 0; b < blocks; ++b) {
        BlockWriter bw;
        if (b == 0) test::append(bw.w.out, process_info(shape.sampled));
        if (b == 0 && shape.internal >= 1) internal_stack(bw.w, 7);
        if (b == 3 && shape.internal >= 2) internal_stack(bw.w, 9);
        const int n = 500 + static_cast<int>(rng() % 3000);
        for (int i = 0; i < n; ++i) {
            const std::uint32_t thread = static_cast<std::uint32_t>(rng() % 3);
            t += rng() % 4 == 0 ? rng() % 100000 : rng() % 3;
            const unsigned op = static_cast<unsigned>(rng() % 1000);
            if (op < 480 || live.empty()) {
                const std::uint64_t a = op % 211 == 0 ? 0 : 0x55550000ull + (rng() % 5000) * 16;
                std::uint64_t size = 1 + rng() % 2000;
                if (op % 97 == 0) size = (std::uint64_t{5} << 32) + rng() % 1000;
                if (op % 151 == 0) size = std::uint64_t{1} << 41;
                std::uint64_t stack = 1 + rng() % 30;
                if (op % 89 == 0) stack = (1u << 24) + rng() % 5;
                bw.head(K::kAlloc, t, thread);
                bw.at(a);
                bw.w.var(size).var(stack).u8(static_cast<std::uint8_t>(rng() % 3));
                live.push_back(a);
            } else if (op < 940) {
                const std::size_t k = rng() % live.size();
                const std::uint64_t a = op < 930 ? live[k] : 0x99990000ull + rng() % 64;
                const bool realloc = op % 5 == 0;
                bw.head(K::kFree, t, thread);
                bw.at(a);
                bw.w.u8(realloc ? 1 : 0);
                if (realloc && rng() % 2 == 0) {
                    bw.head(K::kReallocFailed, ++t, thread);
                    bw.at(a);
                }
                live[k] = live.back();
                live.pop_back();
            } else if (op < 960) {
                bw.head(K::kFree, t, thread);
                bw.at(0);
                bw.w.u8(0);
            } else if (op < 970) {
                bw.head(K::kMarker, t, thread);
                bw.w.u8(0).str("m" + std::to_string(i));
            } else if (op < 980) {
                bw.w.kind(K::kRss).var(t - bw.tick).var(1000000 + rng() % 100000);
                bw.tick = t;
            } else {
                // An alloc whose dt takes 9 bytes: the fast path's long varint.
                t += std::uint64_t{1} << 57;
                const std::uint64_t a = 0x66660000ull + (rng() % 100) * 16;
                bw.head(K::kAlloc, t, thread);
                bw.at(a);
                bw.w.var(24).var(3).u8(0);
                live.push_back(a);
            }
        }
        if (damage && b == 2) {  // a thread id over 32 bits: a bad record after ~n events
            bw.w.kind(K::kAlloc).var(1).var(std::uint64_t{1} << 40).svar(16).var(8).var(1).u8(0);
            bw.head(K::kAlloc, t + 1, 0);
            bw.at(0x12340);
            bw.w.var(77).var(1).u8(0);  // never decoded: the rest of the block is lost
        }
        Bytes block = test::block_bytes(bw.w.out, b % 2 == 0);
        if (damage && b == 4) block[block.size() - 5] ^= 0x40;  // payload byte: crc mismatch
        test::append(file, block);
    }
    return file;
}

}  // namespace heapwise::test
