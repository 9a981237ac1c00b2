// Messages of the reader's typed errors.
#include "analyzer/trace_error.hpp"

#include <fmt/format.h>

#include "analyzer/events.hpp"

namespace heapwise::analyzer {

std::string_view to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::kIo: return "I/O error";
        case ErrorKind::kNotATrace: return "not a heapwise trace";
        case ErrorKind::kUnsupportedVersion: return "unsupported trace version";
        case ErrorKind::kCorruptHeader: return "corrupt file header";
        case ErrorKind::kCorruptBlock: return "corrupt block";
        case ErrorKind::kTruncated: return "truncated";
        case ErrorKind::kBadRecord: return "bad record";
    }
    return "unknown error";
}

TraceError::TraceError(ErrorKind kind, std::uint64_t offset, const std::string& what)
    : std::runtime_error(what), kind_(kind), offset_(offset) {}

TraceError TraceError::bad_record(std::uint64_t block_offset, std::uint64_t record_offset,
                                  std::uint8_t record_kind, std::string_view field,
                                  std::string_view problem) {
    TraceError e(ErrorKind::kBadRecord, block_offset,
                 fmt::format("bad {} record at payload byte {} of the block at byte {}: {}: {}",
                             record_kind_name(record_kind), record_offset, block_offset, field,
                             problem));
    e.record_offset_ = record_offset;
    e.record_kind_ = record_kind;
    e.field_ = std::string(field);
    return e;
}

}  // namespace heapwise::analyzer
