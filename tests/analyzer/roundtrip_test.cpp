// Round trips through the shim's own encoder (preload/encoder.hpp) and file writer: every record
// kind, many blocks of generated events with wide address and time jumps, raw, zstd and LZ4 blocks.
// What the reader returns must equal what was encoded, value for value.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>

#include "analyzer/trace_reader.hpp"
#include "analyzer/trace_stats.hpp"
#include "encoder.hpp"
#include "trace_bytes.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using preload::BlockEncoder;
using preload::TraceFileWriter;

namespace {

using Codec = format::BlockFlags;
constexpr env::Compression kCodecs[] = {{Codec::kZstd, 1}, {Codec::kRaw, 0}, {Codec::kLz4, 0}};

// The flags of every block of a file, from the headers alone: the codec the writer really used.
std::vector<std::uint32_t> block_flags(const std::filesystem::path& path) {
    const test::Bytes b = test::read_file(path);
    std::vector<std::uint32_t> flags;
    for (std::size_t off = sizeof(format::FileHeader); off + sizeof(format::BlockHeader) <= b.size();) {
        format::BlockHeader h;
        std::memcpy(&h, b.data() + off, sizeof(h));
        flags.push_back(h.flags);
        off += sizeof(h) + h.stored_size;
    }
    return flags;
}

// Writes blocks produced by `fill(encoder, block_index)` until it returns false.
template <typename Fill>
void write_trace(const std::filesystem::path& path, env::Compression codec, Fill fill) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    TraceFileWriter writer(codec);
    REQUIRE(writer.open(fd));
    BlockEncoder enc;
    for (int block = 0;; ++block) {
        enc.reset();
        const bool more = fill(enc, block);
        REQUIRE(enc.ok());
        if (!enc.empty()) REQUIRE(writer.write_block(enc.bytes()));
        if (!more) break;
    }
    ::close(fd);
}

// Process info with every string set: a default string_view has a null data pointer, which the
// encoder passes to memcpy even for 0 bytes (undefined behaviour that UBSan reports).
preload::ProcessInfoRecord minimal_process_info(std::uint64_t tick_ns = 1000) {
    preload::ProcessInfoRecord pi;
    pi.tick_ns = tick_ns;
    pi.exe = "";
    pi.cwd = "";
    pi.options = "";
    return pi;
}

template <typename T>
const T& nth(const TraceContents& c, std::size_t index) {
    REQUIRE(index < c.events.size());
    REQUIRE(std::holds_alternative<T>(c.events[index]));
    return std::get<T>(c.events[index]);
}

}  // namespace

TEST_CASE("every record kind round-trips through the shim's encoder", "[reader]") {
    for (const env::Compression codec : kCodecs) {
        INFO("codec " << static_cast<int>(codec.codec));
        test::TempDir dir;
        const auto path = dir / "all.hwt";
        write_trace(path, codec, [](BlockEncoder& e, int block) {
            if (block == 0) {
                const std::string_view argv[] = {"python3", "-c", "print(1)"};
                preload::ProcessInfoRecord pi;
                pi.pid = 4242;
                pi.ppid = 17;
                pi.start_unix_ns = 1'700'000'000'123'456'789ull;
                pi.start_monotonic_ns = 987'654'321;
                pi.tick_ns = 250;
                pi.mode = format::Mode::kSampled;
                pi.sample_interval = 524288;
                pi.unwinder = format::Unwinder::kLibunwindCached;
                pi.max_depth = 48;
                pi.exe = "/usr/bin/python3.11";
                pi.cwd = "/home/u";
                pi.argv = argv;
                pi.options = "HEAPWISE_MODE=sampled\n";
                e.process_info(pi);
                const std::uint8_t build_id[] = {0xde, 0xad, 0xbe, 0xef};
                const preload::SegmentRecord segs[] = {{0, 0x1000, 0, 4}, {0x1000, 0x5000, 0x1000, 5}};
                e.module_load(10, 1, 0x555555554000, "/usr/bin/python3.11", build_id, segs);
                e.thread_start(11, 0, 4242, "python3");
                const std::uintptr_t own1[] = {0x7f0000401234, 0x7f0000400100, 0x555555560000};
                e.stack(1, own1);
                const std::uintptr_t own2[] = {0x7f0000409999};
                e.stack(2, own2, 1, 1);
                e.alloc(20, 0, 0x7fff00001000, 100, 2, format::AllocFn::kPosixMemalign);
                e.alloc(21, 0, 0x100, 1, 1, format::AllocFn::kOperatorNewArray);  // far below
                e.free(22, 0, 0x7fff00001000, format::FreeFn::kRealloc);
                e.realloc_failed(22, 0, 0x7fff00001000);
                e.padding();
                return true;
            }
            e.marker(1000, 0, format::MarkerSource::kApi, "after load");
            e.rss(1001, 123456789);
            e.lost(1002, 0, 7, 6, 5000);
            e.thread_name(1003, 0, "renamed");
            e.module_unload(1004, 1);
            e.thread_exit(1005, 0);
            preload::EndRecord end;
            end.reason = format::EndReason::kExec;
            end.events = 4;
            end.allocs = 2;
            end.frees = 1;
            end.bytes_allocated = 101;
            end.lost_events = 13;
            end.stacks = 2;
            end.threads = 1;
            e.end(1006, end);
            return false;
        });
        const auto codec_flags = static_cast<std::uint32_t>(codec.codec);
        CHECK(block_flags(path) == std::vector<std::uint32_t>{codec_flags, codec_flags});
        const TraceContents c = read_all(path);
        CHECK(c.summary.clean());
        CHECK(c.summary.blocks == 2);
        REQUIRE(c.events.size() == 16);
        const auto& pi = nth<ProcessInfo>(c, 0);
        CHECK((pi.pid == 4242 && pi.ppid == 17));
        CHECK(pi.start_unix_ns == 1'700'000'000'123'456'789ull);
        CHECK(pi.start_monotonic_ns == 987'654'321);
        CHECK(pi.tick_ns == 250);
        CHECK(pi.mode == Mode::kSampled);
        CHECK(pi.sample_interval == 524288);
        CHECK(pi.unwinder == Unwinder::kLibunwindCached);
        CHECK(pi.max_depth == 48);
        CHECK(pi.exe == "/usr/bin/python3.11");
        CHECK(pi.cwd == "/home/u");
        CHECK(pi.args == std::vector<std::string>{"python3", "-c", "print(1)"});
        CHECK(pi.options == "HEAPWISE_MODE=sampled\n");
        const auto& ml = nth<ModuleLoad>(c, 1);
        CHECK(ml.time_ns == 2500);
        CHECK(ml.load_bias == 0x555555554000);
        CHECK(ml.build_id == "\xde\xad\xbe\xef");
        REQUIRE(ml.segments.size() == 2);
        CHECK((ml.segments[1].vaddr == 0x1000 && ml.segments[1].memsz == 0x5000 &&
               ml.segments[1].offset == 0x1000 && ml.segments[1].flags == 5));
        const auto& ts = nth<ThreadStart>(c, 2);
        CHECK((ts.time_ns == 2750 && ts.thread == ThreadId{0} && ts.tid == 4242 && ts.name == "python3"));
        CHECK(nth<StackDef>(c, 3).frames ==
              std::vector<std::uint64_t>{0x7f0000401234, 0x7f0000400100, 0x555555560000});
        CHECK(nth<StackDef>(c, 4).frames ==
              std::vector<std::uint64_t>{0x7f0000409999, 0x7f0000400100, 0x555555560000});
        const auto& a1 = nth<Alloc>(c, 5);
        CHECK((a1.time_ns == 5000 && a1.addr == 0x7fff00001000 && a1.size == 100 &&
               a1.stack == StackId{2} && a1.fn == AllocFn::kPosixMemalign));
        const auto& a2 = nth<Alloc>(c, 6);
        CHECK((a2.addr == 0x100 && a2.size == 1 && a2.fn == AllocFn::kOperatorNewArray));
        const auto& f = nth<Free>(c, 7);
        CHECK((f.time_ns == 5500 && f.addr == 0x7fff00001000 && f.fn == FreeFn::kRealloc));
        CHECK(nth<ReallocFailed>(c, 8).addr == 0x7fff00001000);
        const auto& mk = nth<Marker>(c, 9);
        CHECK((mk.time_ns == 250000 && mk.source == MarkerSource::kApi && mk.label == "after load"));
        CHECK(nth<Rss>(c, 10).rss_bytes == 123456789);
        const auto& lost = nth<Lost>(c, 11);
        CHECK((lost.allocs == 7 && lost.frees == 6 && lost.bytes == 5000));
        CHECK(nth<ThreadName>(c, 12).name == "renamed");
        CHECK(nth<ModuleUnload>(c, 13).module == ModuleId{1});
        CHECK(nth<ThreadExit>(c, 14).time_ns == 1005 * 250);
        const auto& end = nth<End>(c, 15);
        CHECK((end.reason == EndReason::kExec && end.events == 4 && end.allocs == 2 &&
               end.frees == 1 && end.bytes_allocated == 101 && end.lost_events == 13 &&
               end.stacks == 2 && end.threads == 1));
    }
}

TEST_CASE("generated events across many blocks come back exactly, and stats replay them",
          "[reader]") {
    struct Ev {
        bool alloc;
        std::uint64_t t, thread, addr, size;
    };
    std::mt19937_64 rng(12345);
    std::vector<Ev> truth;
    std::vector<std::uint64_t> live;
    std::uint64_t t = 0, live_bytes = 0, peak = 0, bytes = 0;
    for (int i = 0; i < 20000; ++i) {
        t += rng() % 1000;
        if (live.empty() || rng() % 3 != 0) {
            // Addresses spread over the whole 47-bit space: large positive and negative deltas.
            const std::uint64_t addr = (rng() & 0x7ffffffffff0ull) | 0x10;
            const std::uint64_t size = rng() % 5000 + 1;
            if (std::find(live.begin(), live.end(), addr) != live.end()) continue;
            truth.push_back({true, t, rng() % 4, addr, size});
            live.push_back(addr);
            live_bytes += size;
            bytes += size;
            peak = std::max(peak, live_bytes);
        } else {
            const std::size_t k = rng() % live.size();
            const std::uint64_t addr = live[k];
            live.erase(live.begin() + static_cast<long>(k));
            const auto it = std::find_if(truth.rbegin(), truth.rend(),
                                         [&](const Ev& e) { return e.alloc && e.addr == addr; });
            live_bytes -= it->size;
            truth.push_back({false, t, rng() % 4, addr, 0});
        }
    }
    for (const env::Compression codec : kCodecs) {
        INFO("codec " << static_cast<int>(codec.codec));
        test::TempDir dir;
        const auto path = dir / "gen.hwt";
        constexpr std::size_t kPerBlock = 777;
        write_trace(path, codec, [&](BlockEncoder& e, int block) {
            const std::size_t from = static_cast<std::size_t>(block) * kPerBlock;
            if (block == 0) {
                e.process_info(minimal_process_info(3));
                const std::uintptr_t frames[] = {0x401000};
                e.stack(1, frames);
            }
            for (std::size_t i = from; i < truth.size() && i < from + kPerBlock; ++i) {
                const Ev& ev = truth[i];
                if (ev.alloc)
                    e.alloc(ev.t, ev.thread, ev.addr, ev.size, 1, format::AllocFn::kMalloc);
                else
                    e.free(ev.t, ev.thread, ev.addr, format::FreeFn::kFree);
            }
            return from + kPerBlock < truth.size();
        });
        const std::size_t blocks = (truth.size() + kPerBlock - 1) / kPerBlock;
        CHECK(block_flags(path) == std::vector<std::uint32_t>(blocks, static_cast<std::uint32_t>(codec.codec)));
        const TraceContents c = read_all(path);
        REQUIRE(c.summary.clean());
        CHECK(c.summary.blocks == blocks);
        std::size_t i = 0;
        for (const auto& ev : c.events) {
            if (const auto* a = std::get_if<Alloc>(&ev)) {
                REQUIRE(i < truth.size());
                REQUIRE(truth[i].alloc);
                REQUIRE(a->addr == truth[i].addr);
                REQUIRE(a->size == truth[i].size);
                REQUIRE(a->time_ns == truth[i].t * 3);
                REQUIRE(a->thread == ThreadId{static_cast<std::uint32_t>(truth[i].thread)});
                ++i;
            } else if (const auto* f = std::get_if<Free>(&ev)) {
                REQUIRE(i < truth.size());
                REQUIRE_FALSE(truth[i].alloc);
                REQUIRE(f->addr == truth[i].addr);
                REQUIRE(f->time_ns == truth[i].t * 3);
                ++i;
            }
        }
        CHECK(i == truth.size());

        TraceReader reader(path);
        StatsBuilder stats;
        CHECK(reader.read(stats).clean());
        const TraceStats& s = stats.stats();
        CHECK(s.events == truth.size());
        CHECK(s.bytes_allocated == bytes);
        CHECK(s.peak_live_bytes == peak);
        CHECK(s.live_bytes == live_bytes);
        CHECK(s.live_blocks == live.size());
        CHECK(s.free_of_unknown == 0);
        CHECK(s.alloc_of_live == 0);
    }
}

TEST_CASE("an encoder-made trace cut at every offset never breaks the reader", "[reader]") {
    for (const env::Compression codec : kCodecs) {
        test::TempDir dir;
        const auto full = dir / "full.hwt";
        write_trace(full, codec, [](BlockEncoder& e, int block) {
            if (block == 0) e.process_info(minimal_process_info());
            for (std::uint64_t i = 0; i < 20; ++i)
                e.alloc(static_cast<std::uint64_t>(block) * 100 + i, 0, 0x1000 * (i + 1) + static_cast<std::uint64_t>(block) * 0x100000,
                        i + 1, 0, format::AllocFn::kMalloc);
            return block < 3;
        });
        const test::Bytes bytes = test::read_file(full);
        const auto cut_path = dir / "cut.hwt";
        std::size_t last_allocs = 0;
        for (std::size_t cut = sizeof(format::FileHeader); cut <= bytes.size(); ++cut) {
            test::write_file(cut_path, test::Bytes(bytes.begin(), bytes.begin() + static_cast<long>(cut)));
            const TraceContents c = read_all(cut_path);
            std::size_t allocs = 0;
            for (const auto& ev : c.events) allocs += std::holds_alternative<Alloc>(ev);
            CHECK(allocs % 20 == 0);         // whole blocks or nothing
            CHECK(allocs >= last_allocs);    // a longer file never reads less
            last_allocs = allocs;
            if (!c.summary.clean()) {
                INFO("codec " << static_cast<int>(codec.codec) << " cut at " << cut);
                CHECK(c.summary.damage.front().kind() == ErrorKind::kTruncated);
            }
        }
        CHECK(last_allocs == 80);
    }
}
