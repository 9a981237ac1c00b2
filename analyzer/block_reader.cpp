// Block framing of a trace file: header checks, payload crc, the block codecs (zstd, LZ4), and
// resynchronization. Every size read from the file is checked before it is used to size a buffer
// or a read.
#include "analyzer/block_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace heapwise::analyzer {

namespace {

namespace fmtns = heapwise::format;
constexpr std::size_t kBlockHeaderSize = sizeof(fmtns::BlockHeader);
constexpr std::uint32_t kMaxHeaderSize = 1u << 20;  // a FileHeader grown by minors stays small
constexpr std::uint32_t kRaw = static_cast<std::uint32_t>(fmtns::BlockFlags::kRaw);
constexpr std::uint32_t kZstd = static_cast<std::uint32_t>(fmtns::BlockFlags::kZstd);
constexpr std::uint32_t kLz4 = static_cast<std::uint32_t>(fmtns::BlockFlags::kLz4);
static_assert(ZSTD_COMPRESSBOUND(fmtns::kMaxBlockRawSize) <= fmtns::kMaxBlockStoredSize);
static_assert(LZ4_COMPRESSBOUND(fmtns::kMaxBlockRawSize) <= fmtns::kMaxBlockStoredSize);

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

BlockReader::BlockReader(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw TraceError(ErrorKind::kIo, 0, fmt::format("cannot open: {}", errno_text(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
        ::close(fd_);
        fd_ = -1;
        throw TraceError(ErrorKind::kIo, 0, fmt::format("cannot read: {}", errno_text(err ? err : EINVAL)));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    try {
        if (size_ == 0) throw TraceError(ErrorKind::kNotATrace, 0, "not a heapwise trace: the file is empty");
        const std::size_t got = read_at(0, &header_, sizeof(header_));
        const std::size_t magic_len = std::min(got, fmtns::kFileMagic.size());
        if (std::memcmp(header_.magic.data(), fmtns::kFileMagic.data(), magic_len) != 0)
            throw TraceError(ErrorKind::kNotATrace, 0, "not a heapwise trace: no HEAPWISE magic at byte 0");
        if (got < sizeof(header_))
            throw TraceError(ErrorKind::kTruncated, 0,
                             fmt::format("truncated at byte {}: the file ends inside the {}-byte file header",
                                         got, sizeof(header_)));
        if (header_.version_major != fmtns::kVersionMajor)
            throw TraceError(ErrorKind::kUnsupportedVersion, 8,
                             fmt::format("unsupported trace version {}.{} (this reader reads {}.x)",
                                         header_.version_major, header_.version_minor,
                                         fmtns::kVersionMajor));
        if (header_.pointer_size != 8)
            throw TraceError(ErrorKind::kUnsupportedVersion, 20,
                             fmt::format("unsupported pointer size {} (this reader reads 8)",
                                         header_.pointer_size));
        if (header_.header_size < sizeof(header_) || header_.header_size > kMaxHeaderSize)
            throw TraceError(ErrorKind::kCorruptHeader, 12,
                             fmt::format("corrupt file header: header_size {}", header_.header_size));
        if (header_.header_size > size_)
            throw TraceError(ErrorKind::kTruncated, 0,
                             fmt::format("truncated at byte {}: the file ends inside the {}-byte file header",
                                         size_, header_.header_size));
        pos_ = header_.header_size;
        dctx_ = ZSTD_createDCtx();
        if (dctx_ == nullptr) throw std::bad_alloc();
    } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
    }
}

BlockReader::~BlockReader() {
    if (dctx_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_));
    if (fd_ >= 0) ::close(fd_);
}

std::size_t BlockReader::read_at(std::uint64_t offset, void* buf, std::size_t n) const {
    auto* p = static_cast<char*>(buf);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            throw TraceError(ErrorKind::kIo, offset + done,
                             fmt::format("read error at byte {}: {}", offset + done, errno_text(errno)));
        }
        done += static_cast<std::size_t>(r);
    }
    return done;
}

bool BlockReader::plausible_header(const format::BlockHeader& h) const noexcept {
    if (h.magic != fmtns::kBlockMagic || h.header_crc != fmtns::block_header_crc(h)) return false;
    if (h.raw_size > fmtns::kMaxBlockRawSize) return false;
    switch (h.flags) {
        case kRaw: return h.stored_size == h.raw_size;
        case kZstd: return h.stored_size > 0 && h.stored_size <= ZSTD_COMPRESSBOUND(fmtns::kMaxBlockRawSize);
        case kLz4: return h.stored_size > 0 && h.stored_size <= LZ4_COMPRESSBOUND(fmtns::kMaxBlockRawSize);
        // A codec of a later minor: a block boundary all the same (next() skips and reports it).
        default: return h.stored_size <= fmtns::kMaxBlockStoredSize;
    }
}

std::uint64_t BlockReader::resync(std::uint64_t from) const {
    // Scan in chunks that overlap by one header so a header across a chunk edge is still seen.
    constexpr std::size_t kChunk = 64 << 10;
    std::vector<std::uint8_t> buf(kChunk + kBlockHeaderSize);
    std::uint8_t magic[4];
    std::memcpy(magic, &fmtns::kBlockMagic, 4);
    for (std::uint64_t base = from; base < size_; base += kChunk) {
        const std::size_t got = read_at(base, buf.data(), buf.size());
        for (std::size_t i = 0; i < got && i < kChunk; ++i) {
            if (buf[i] != magic[0] || i + 4 > got || std::memcmp(&buf[i], magic, 4) != 0) continue;
            if (i + kBlockHeaderSize > got) return size_;  // a header cut by the end of the file
            format::BlockHeader h;
            std::memcpy(&h, &buf[i], sizeof(h));
            if (plausible_header(h)) return base + i;
        }
    }
    return size_;
}

BlockReader::Step BlockReader::damage(ErrorKind kind, std::uint64_t offset, std::string what,
                                      std::uint64_t resume_from) {
    pos_ = resume_from >= size_ ? size_ : resync(resume_from);
    if (pos_ < size_)
        what += fmt::format("; resumed at the next valid block, byte {}", pos_);
    else
        what += "; no valid block after it";
    Step s;
    s.kind = Step::Kind::kDamage;
    s.offset = offset;
    s.error.emplace(kind, offset, what);
    return s;
}

BlockReader::Step BlockReader::next() {
    if (pos_ >= size_) return Step{};
    const std::uint64_t at = pos_;
    if (size_ - at < kBlockHeaderSize)
        return damage(ErrorKind::kTruncated, at,
                      fmt::format("truncated at byte {}: the file ends inside a block header ({} of {} bytes)",
                                  at, size_ - at, kBlockHeaderSize),
                      size_);
    format::BlockHeader h;
    read_at(at, &h, sizeof(h));
    if (h.magic != fmtns::kBlockMagic)
        return damage(ErrorKind::kCorruptBlock, at,
                      fmt::format("corrupt block at byte {}: no block magic", at), at + 1);
    if (h.header_crc != fmtns::block_header_crc(h))
        return damage(ErrorKind::kCorruptBlock, at,
                      fmt::format("corrupt block at byte {}: block header crc mismatch", at), at + 1);
    if (!plausible_header(h))
        return damage(ErrorKind::kCorruptBlock, at,
                      fmt::format("corrupt block at byte {}: impossible sizes or flags (flags {}, "
                                  "stored {}, raw {})",
                                  at, h.flags, h.stored_size, h.raw_size),
                      at + 1);
    const std::uint64_t payload_at = at + kBlockHeaderSize;
    const std::uint64_t end = payload_at + h.stored_size;
    if (h.flags >= fmtns::kBlockFlagsCount)
        return damage(ErrorKind::kUnsupportedVersion, at,
                      fmt::format("unsupported block at byte {}: codec {} is unknown to this reader "
                                  "(trace version {}.{}, this reader reads up to {}.{}); block skipped",
                                  at, h.flags, header_.version_major, header_.version_minor,
                                  fmtns::kVersionMajor, fmtns::kVersionMinor),
                      std::min(end, size_));
    if (end > size_)
        return damage(ErrorKind::kTruncated, at,
                      fmt::format("truncated at byte {}: the block at byte {} needs {} payload bytes, "
                                  "the file holds {}",
                                  size_, at, h.stored_size, size_ - payload_at),
                      size_);
    stored_.resize(h.stored_size);
    if (read_at(payload_at, stored_.data(), h.stored_size) != h.stored_size)
        return damage(ErrorKind::kTruncated, at,
                      fmt::format("truncated at byte {}: the file shrank while being read", size_), size_);
    if (fmtns::crc32c(stored_.data(), stored_.size()) != h.payload_crc)
        return damage(ErrorKind::kCorruptBlock, at,
                      fmt::format("corrupt block at byte {}: payload crc mismatch", at), end);

    Step s;
    s.kind = Step::Kind::kBlock;
    s.offset = at;
    if (h.flags == kRaw) {
        s.records = std::span<const std::uint8_t>(stored_.data(), stored_.size());
    } else if (h.flags == kLz4) {
        // Exactly raw_size bytes, no more and no less: a block whose content runs past raw_size
        // fails inside LZ4_decompress_safe (output full), one that ends short returns fewer.
        raw_.resize(h.raw_size);
        const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(stored_.data()),
                                          reinterpret_cast<char*>(raw_.data()),
                                          static_cast<int>(stored_.size()), static_cast<int>(h.raw_size));
        if (n < 0 || static_cast<std::uint32_t>(n) != h.raw_size)
            return damage(ErrorKind::kCorruptBlock, at,
                          n < 0 ? fmt::format("corrupt block at byte {}: lz4 block is malformed or "
                                              "decodes to more than {} bytes",
                                              at, h.raw_size)
                                : fmt::format("corrupt block at byte {}: lz4 block decodes to {} "
                                              "bytes, not {}",
                                              at, n, h.raw_size),
                          end);
        s.records = std::span<const std::uint8_t>(raw_.data(), raw_.size());
    } else {
        const std::size_t frame = ZSTD_findFrameCompressedSize(stored_.data(), stored_.size());
        if (ZSTD_isError(frame) || frame != stored_.size())
            return damage(ErrorKind::kCorruptBlock, at,
                          fmt::format("corrupt block at byte {}: payload is not exactly one zstd frame", at),
                          end);
        raw_.resize(h.raw_size);
        const std::size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx_), raw_.data(),
                                                  raw_.size(), stored_.data(), stored_.size());
        if (ZSTD_isError(n) || n != h.raw_size)
            return damage(ErrorKind::kCorruptBlock, at,
                          fmt::format("corrupt block at byte {}: zstd frame does not decompress to "
                                      "{} bytes{}{}",
                                      at, h.raw_size, ZSTD_isError(n) ? ": " : "",
                                      ZSTD_isError(n) ? ZSTD_getErrorName(n) : ""),
                          end);
        s.records = std::span<const std::uint8_t>(raw_.data(), raw_.size());
    }
    pos_ = end;
    return s;
}

}  // namespace heapwise::analyzer
