// libFuzzer target for the trace reader (built only with clang; see docs/cli.md "Fuzzing").
// The first input byte picks how the rest is presented, so the fuzzer reaches the record decoder
// without having to forge crc32c: 0 the bytes as a whole file; 1 after a valid FileHeader;
// 2 as the payload of one raw block with valid crcs; 3 split into two such blocks (the stack
// table crosses blocks); 4 as the stored payload of one LZ4 block with valid crcs, its raw_size
// taken from the first 3 bytes (the LZ4 decoder on any input, any claimed size); 5 compressed
// into one valid LZ4 block (records reach the decoder through LZ4); 6 and 7 as 2 and 3. Every
// event is visited and every stack expanded. Must never crash. Differential too: the statistics
// read one record at a time (the virtual interface) and through the run decoder (read_with) must
// agree on every figure, or the target traps.
#include <lz4.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "analyzer/trace_reader.hpp"
#include "analyzer/trace_stats.hpp"

namespace {

using namespace heapwise;

void append_block(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n,
                  format::BlockFlags flags = format::BlockFlags::kRaw, std::uint32_t raw_size = 0) {
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = static_cast<std::uint32_t>(flags);
    h.stored_size = static_cast<std::uint32_t>(n);
    h.raw_size = flags == format::BlockFlags::kRaw ? h.stored_size : raw_size;
    h.payload_crc = format::crc32c(data, n);
    h.header_crc = format::block_header_crc(h);
    const auto* hp = reinterpret_cast<const std::uint8_t*>(&h);
    out.insert(out.end(), hp, hp + sizeof(h));
    out.insert(out.end(), data, data + n);
}

// Touches every stack an allocation names, as a report would.
class Touch final : public analyzer::EventVisitor {
public:
    explicit Touch(const analyzer::TraceReader& r) : reader_(r) {}
    void on_alloc(const analyzer::Alloc& e) override {
        for (const auto f : reader_.stacks().frames(e.stack)) sum_ += f;
        stats_.on_alloc(e);
    }
    void on_free(const analyzer::Free& e) override { stats_.on_free(e); }
    void on_realloc_failed(const analyzer::ReallocFailed& e) override { stats_.on_realloc_failed(e); }
    void on_stack(const analyzer::StackDef& e) override { sum_ += e.frames.size(); }
    void on_damage(const analyzer::TraceError& e) override { sum_ += e.offset(); }
    std::uint64_t sum_ = 0;

private:
    const analyzer::TraceReader& reader_;
    analyzer::StatsBuilder stats_;
};

// Every number of two TraceStats equal (the optional records and labels aside).
bool same(const analyzer::TraceStats& a, const analyzer::TraceStats& b) {
    return a.records == b.records && a.events == b.events && a.allocs == b.allocs &&
           a.allocs_by_fn == b.allocs_by_fn && a.frees == b.frees && a.frees_by_fn == b.frees_by_fn &&
           a.frees_null == b.frees_null && a.reallocs == b.reallocs && a.realloc_failed == b.realloc_failed &&
           a.bytes_allocated == b.bytes_allocated && a.peak_live_bytes == b.peak_live_bytes &&
           a.peak_live_blocks == b.peak_live_blocks && a.peak_time_ns == b.peak_time_ns &&
           a.live_bytes == b.live_bytes && a.live_blocks == b.live_blocks && a.markers == b.markers &&
           a.rss_samples == b.rss_samples && a.duration_ns == b.duration_ns &&
           a.free_of_unknown == b.free_of_unknown && a.alloc_of_live == b.alloc_of_live &&
           a.realloc_failed_unknown == b.realloc_failed_unknown;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("fuzz_trace", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0 || size == 0) return 0;
    std::uint8_t mode = data[0] & 7;
    if (mode >= 6) mode -= 4;
    ++data;
    --size;
    std::vector<std::uint8_t> file;
    if (mode != 0) {
        const format::FileHeader fh = format::make_file_header();
        const auto* p = reinterpret_cast<const std::uint8_t*>(&fh);
        file.insert(file.end(), p, p + sizeof(fh));
    }
    if (mode == 0 || mode == 1) {
        file.insert(file.end(), data, data + size);
    } else if (mode == 2) {
        append_block(file, data, size);
    } else if (mode == 4) {
        if (size < 3) return 0;
        const std::uint32_t raw = static_cast<std::uint32_t>(data[0]) | static_cast<std::uint32_t>(data[1]) << 8 |
                                  static_cast<std::uint32_t>(data[2]) << 16;
        append_block(file, data + 3, size - 3, format::BlockFlags::kLz4, raw);
    } else if (mode == 5) {
        if (size > format::kMaxBlockRawSize) return 0;
        std::vector<std::uint8_t> lz4(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(size))));
        const int n = LZ4_compress_default(reinterpret_cast<const char*>(data), reinterpret_cast<char*>(lz4.data()),
                                           static_cast<int>(size), static_cast<int>(lz4.size()));
        if (n <= 0) return 0;
        append_block(file, lz4.data(), static_cast<std::size_t>(n), format::BlockFlags::kLz4,
                     static_cast<std::uint32_t>(size));
    } else {
        append_block(file, data, size / 2);
        append_block(file, data + size / 2, size - size / 2);
    }
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size()))
        return 0;
    try {
        analyzer::TraceReader reader(path);
        Touch touch(reader);
        (void)reader.read(touch);
    } catch (const analyzer::TraceError&) {
    }
    try {
        analyzer::StatsBuilder one_by_one;
        analyzer::StatsBuilder runs;
        const analyzer::ReadSummary a = analyzer::TraceReader(path).read(one_by_one);
        const analyzer::ReadSummary b = analyzer::TraceReader(path).read_with(runs);
        if (a.records != b.records || a.damaged != b.damaged || !same(one_by_one.stats(), runs.stats())) {
            __builtin_trap();
        }
    } catch (const analyzer::TraceError&) {
    }
    return 0;
}
