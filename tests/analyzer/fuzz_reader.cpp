// libFuzzer target for the trace reader (built only with clang; see docs/cli.md "Fuzzing").
// The first input byte picks how the rest is presented, so the fuzzer reaches the record decoder
// without having to forge crc32c: 0 the bytes as a whole file; 1 after a valid FileHeader;
// 2 as the payload of one raw block with valid crcs; 3 split into two such blocks (the stack
// table crosses blocks). Every event is visited and every stack expanded. Must never crash.
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

void append_block(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n) {
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = static_cast<std::uint32_t>(format::BlockFlags::kRaw);
    h.stored_size = h.raw_size = static_cast<std::uint32_t>(n);
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("fuzz_trace", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0 || size == 0) return 0;
    const std::uint8_t mode = data[0] & 3;
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
    return 0;
}
