// Test helpers that build trace bytes by hand from include/heapwise/trace_format.hpp alone:
// records field by field, blocks (raw, zstd or lz4, with their crcs), file headers, and real files in
// a real temporary directory. Hand-built bytes let tests make damage no encoder would produce.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "heapwise/trace_format.hpp"

namespace heapwise::test {

using Bytes = std::vector<std::uint8_t>;

// Appends fields of the format's types.
struct RecordWriter {
    Bytes out;
    RecordWriter& u8(std::uint8_t v);
    RecordWriter& kind(format::RecordKind k) { return u8(static_cast<std::uint8_t>(k)); }
    RecordWriter& var(std::uint64_t v);
    RecordWriter& svar(std::int64_t v) { return var(format::zigzag(v)); }
    RecordWriter& str(std::string_view s);
};

Bytes file_header_bytes(std::uint16_t major = format::kVersionMajor,
                        std::uint16_t minor = format::kVersionMinor);
// One block: header with crcs, then the payload, zstd-compressed when zstd is true.
Bytes block_bytes(const Bytes& records, bool zstd = true);
// One block of the given codec (kRaw, kZstd or kLz4).
Bytes block_bytes(const Bytes& records, format::BlockFlags codec);
// One block with a stored payload and header fields as given (sizes may lie), crcs made valid.
Bytes block_with_payload(std::uint32_t flags, const Bytes& stored, std::uint32_t raw_size);
// records as one LZ4 block (LZ4_compress_default), as the tracer writes it.
Bytes lz4_block_payload(const Bytes& records);
// A ProcessInfo record with tick_ns and small fixed fields.
Bytes process_info_record(std::uint64_t tick_ns = 1000, std::uint64_t pid = 4242);

void append(Bytes& to, const Bytes& from);
void write_file(const std::filesystem::path& path, const Bytes& bytes);
Bytes read_file(const std::filesystem::path& path);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace heapwise::test
