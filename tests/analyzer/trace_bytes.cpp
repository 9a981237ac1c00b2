// Hand-built trace bytes for the reader's tests.
#include "trace_bytes.hpp"

#include <lz4.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace heapwise::test {

RecordWriter& RecordWriter::u8(std::uint8_t v) {
    out.push_back(v);
    return *this;
}

RecordWriter& RecordWriter::var(std::uint64_t v) {
    std::uint8_t buf[format::kMaxVarintSize];
    std::uint8_t* end = format::put_varint(buf, v);
    out.insert(out.end(), &buf[0], end);
    return *this;
}

RecordWriter& RecordWriter::str(std::string_view s) {
    var(s.size());
    out.insert(out.end(), s.begin(), s.end());
    return *this;
}

Bytes file_header_bytes(std::uint16_t major, std::uint16_t minor) {
    format::FileHeader h = format::make_file_header();
    h.version_major = major;
    h.version_minor = minor;
    Bytes b(sizeof(h));
    std::memcpy(b.data(), &h, sizeof(h));
    return b;
}

Bytes block_bytes(const Bytes& records, bool zstd) {
    return block_bytes(records, zstd ? format::BlockFlags::kZstd : format::BlockFlags::kRaw);
}

Bytes block_bytes(const Bytes& records, format::BlockFlags codec) {
    Bytes payload = records;
    if (codec == format::BlockFlags::kZstd) {
        payload.resize(ZSTD_compressBound(records.size()));
        const std::size_t n = ZSTD_compress(payload.data(), payload.size(), records.data(),
                                            records.size(), 1);
        if (ZSTD_isError(n)) throw std::runtime_error("zstd compression failed");
        payload.resize(n);
    } else if (codec == format::BlockFlags::kLz4) {
        payload = lz4_block_payload(records);
    }
    return block_with_payload(static_cast<std::uint32_t>(codec), payload,
                              static_cast<std::uint32_t>(records.size()));
}

Bytes block_with_payload(std::uint32_t flags, const Bytes& stored, std::uint32_t raw_size) {
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.flags = flags;
    h.raw_size = raw_size;
    h.stored_size = static_cast<std::uint32_t>(stored.size());
    h.payload_crc = format::crc32c(stored.data(), stored.size());
    h.header_crc = format::block_header_crc(h);
    Bytes b(sizeof(h));
    std::memcpy(b.data(), &h, sizeof(h));
    append(b, stored);
    return b;
}

Bytes lz4_block_payload(const Bytes& records) {
    Bytes payload(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(records.size()))));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(records.data()),
                                       reinterpret_cast<char*>(payload.data()),
                                       static_cast<int>(records.size()), static_cast<int>(payload.size()));
    if (n <= 0) throw std::runtime_error("lz4 compression failed");
    payload.resize(static_cast<std::size_t>(n));
    return payload;
}

Bytes process_info_record(std::uint64_t tick_ns, std::uint64_t pid) {
    RecordWriter w;
    w.kind(format::RecordKind::kProcessInfo)
        .var(pid).var(1).var(1'700'000'000'000'000'000ull).var(5'000'000).var(tick_ns)
        .u8(8).u8(0).var(0).u8(1).var(64)
        .str("/usr/bin/prog").str("/tmp").var(2).str("prog").str("--flag").str("HEAPWISE_DEPTH=64\n");
    return w.out;
}

void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path.string());
}

Bytes read_file(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/heapwise-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace heapwise::test
