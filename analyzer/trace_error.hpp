// Typed errors of the trace reader. Every error names what broke and the byte offset in the file
// where it broke, so a tool can print one precise line and a caller can decide whether to go on:
// open-time errors (not a trace, unsupported version, unreadable) are thrown; damage met while
// reading (corrupt or truncated blocks, bad records) is reported and the reader resynchronizes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heapwise::analyzer {

enum class ErrorKind : std::uint8_t {
    kIo,                  // the file cannot be opened or read (errno text in the message)
    kNotATrace,           // empty file, or no heapwise magic at offset 0
    kUnsupportedVersion,  // a newer major version, a pointer size this reader cannot use, or
                          // (as damage) a block of a codec a later minor added
    kCorruptHeader,       // the file header has the magic but impossible fields
    kCorruptBlock,        // block header or payload fails its checks (magic, crc, sizes, codec)
    kTruncated,           // the file ends inside the file header, a block header or a payload
    kBadRecord,           // a block's bytes pass their crc but a record in them is malformed
};

std::string_view to_string(ErrorKind kind) noexcept;

class TraceError : public std::runtime_error {
public:
    // offset: file offset where the unreadable piece starts: the block that is corrupt, cut short
    // or holds a bad record; 0 for the file header. The message also names the end of the file
    // for a truncation.
    TraceError(ErrorKind kind, std::uint64_t offset, const std::string& what);
    // A malformed record: record_offset is its offset in the block's decompressed payload.
    static TraceError bad_record(std::uint64_t block_offset, std::uint64_t record_offset,
                                 std::uint8_t record_kind, std::string_view field,
                                 std::string_view problem);

    ErrorKind kind() const noexcept { return kind_; }
    std::uint64_t offset() const noexcept { return offset_; }
    // Set for kBadRecord only.
    std::uint64_t record_offset() const noexcept { return record_offset_; }
    std::uint8_t record_kind() const noexcept { return record_kind_; }
    const std::string& field() const noexcept { return field_; }

private:
    ErrorKind kind_;
    std::uint64_t offset_;
    std::uint64_t record_offset_ = 0;
    std::uint8_t record_kind_ = 0;
    std::string field_;
};

}  // namespace heapwise::analyzer
