// Reads a trace file block by block: validates the FileHeader, then each BlockHeader and payload
// (magic, header crc, sizes, payload crc, zstd frame or LZ4 block), and hands out the decompressed
// records of one block at a time. A block of a codec this reader does not know is reported as
// kUnsupportedVersion and skipped. Memory is one block (at most format::kMaxBlockRawSize plus its compressed
// form), whatever the file's size. On damage it reports a TraceError with the file offset and
// resynchronizes at the next offset holding kBlockMagic with a valid header_crc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "analyzer/trace_error.hpp"
#include "heapwise/trace_format.hpp"

namespace heapwise::analyzer {

class BlockReader {
public:
    // Opens the file and checks its FileHeader. Throws TraceError: kIo, kNotATrace (empty file or
    // wrong magic), kUnsupportedVersion (newer major, other pointer size), kCorruptHeader,
    // kTruncated (shorter than a FileHeader). A newer minor version is accepted.
    explicit BlockReader(const std::filesystem::path& path);
    ~BlockReader();
    BlockReader(const BlockReader&) = delete;
    BlockReader& operator=(const BlockReader&) = delete;

    struct Step {
        enum class Kind { kBlock, kDamage, kEnd } kind = Kind::kEnd;
        std::uint64_t offset = 0;               // file offset of the block (or of the damage)
        std::span<const std::uint8_t> records;  // kBlock: decompressed payload, valid until next()
        std::optional<TraceError> error;        // kDamage: what broke; reading may go on
    };
    // The next block, the next piece of damage (after which the reader has already moved to the
    // next valid block, if any), or the end of the file. Never throws for damage; throws
    // TraceError(kIo) if the file cannot be read.
    Step next();

    const format::FileHeader& file_header() const noexcept { return header_; }
    std::uint64_t file_size() const noexcept { return size_; }
    std::uint64_t position() const noexcept { return pos_; }  // offset of the next block header

private:
    std::size_t read_at(std::uint64_t offset, void* buf, std::size_t n) const;
    bool plausible_header(const format::BlockHeader& h) const noexcept;
    std::uint64_t resync(std::uint64_t from) const;  // next valid header at or after from, or size_
    Step damage(ErrorKind kind, std::uint64_t offset, std::string what, std::uint64_t resume_from);

    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t pos_ = 0;
    format::FileHeader header_{};
    std::vector<std::uint8_t> stored_;  // one block's stored payload
    std::vector<std::uint8_t> raw_;     // one block's decompressed payload
    void* dctx_ = nullptr;              // ZSTD_DCtx, reused across blocks
};

}  // namespace heapwise::analyzer
