// Record encoder and trace file writer: the only code that produces the bytes of
// include/heapwise/trace_format.hpp. BlockEncoder appends records to one block's raw payload
// (time and address deltas restart at each reset()); TraceFileWriter writes the FileHeader and
// compressed (zstd or LZ4) or raw, crc32c-checksummed blocks to a file descriptor. Memory comes from mmap only,
// so the shim's writer thread can use both; the analyzer's tests use them to make real traces.
// Stable API: readers' round-trip tests depend on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "heapwise/trace_format.hpp"
#include "heapwise/tracer_env.hpp"

namespace heapwise::preload {

struct ProcessInfoRecord {
    std::uint64_t pid = 0;
    std::uint64_t ppid = 0;
    std::uint64_t start_unix_ns = 0;
    std::uint64_t start_monotonic_ns = 0;
    std::uint64_t tick_ns = 1000;
    format::Mode mode = format::Mode::kLossless;
    std::uint64_t sample_interval = 0;
    format::Unwinder unwinder = format::Unwinder::kLibunwind;
    std::uint64_t max_depth = 64;
    std::string_view exe;
    std::string_view cwd;
    std::span<const std::string_view> argv;
    std::string_view options;  // "NAME=value" lines
};

struct SegmentRecord {
    std::uint64_t vaddr = 0;
    std::uint64_t memsz = 0;
    std::uint64_t offset = 0;
    std::uint8_t flags = 0;  // ELF p_flags: 1 X, 2 W, 4 R
};

struct EndRecord {
    format::EndReason reason = format::EndReason::kExit;
    std::uint64_t events = 0;
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::uint64_t bytes_allocated = 0;
    std::uint64_t lost_events = 0;
    std::uint64_t stacks = 0;
    std::uint64_t threads = 0;
};

// Appends records to a growable mmap'd buffer. Times are absolute ticks (since
// ProcessInfo.start_monotonic_ns, in units of tick_ns); the encoder writes the deltas. A time
// earlier than the previous record's is written as delta 0 (callers emit in time order).
class BlockEncoder {
public:
    explicit BlockEncoder(std::size_t initial_capacity = 1u << 20) noexcept;
    ~BlockEncoder();
    BlockEncoder(const BlockEncoder&) = delete;
    BlockEncoder& operator=(const BlockEncoder&) = delete;

    // Starts a new block: drops the bytes and restarts the time and address deltas.
    void reset() noexcept;
    std::span<const std::uint8_t> bytes() const noexcept { return {buf_, size_}; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    // False once a growth of the buffer failed (out of memory); the block is then unusable.
    bool ok() const noexcept { return ok_; }

    void padding() noexcept;
    void process_info(const ProcessInfoRecord& r) noexcept;
    void module_load(std::uint64_t t, std::uint64_t module, std::uint64_t load_bias,
                     std::string_view path, std::span<const std::uint8_t> build_id,
                     std::span<const SegmentRecord> segments) noexcept;
    void module_unload(std::uint64_t t, std::uint64_t module) noexcept;
    void thread_start(std::uint64_t t, std::uint64_t thread, std::uint64_t tid,
                      std::string_view name) noexcept;
    void thread_exit(std::uint64_t t, std::uint64_t thread) noexcept;
    void thread_name(std::uint64_t t, std::uint64_t thread, std::string_view name) noexcept;
    // own: the frames this record holds (leaf first); then frames [base_from, ...) of stack base.
    void stack(std::uint64_t id, std::span<const std::uintptr_t> own, std::uint64_t base = 0,
               std::uint64_t base_from = 0) noexcept;
    // Sized kInternalStack record: stack `id` holds the program's own bookkeeping.
    void internal_stack(std::uint64_t id) noexcept;
    void alloc(std::uint64_t t, std::uint64_t thread, std::uint64_t addr, std::uint64_t size,
               std::uint64_t stack, format::AllocFn fn) noexcept;
    void free(std::uint64_t t, std::uint64_t thread, std::uint64_t addr, format::FreeFn fn) noexcept;
    void realloc_failed(std::uint64_t t, std::uint64_t thread, std::uint64_t addr) noexcept;
    void marker(std::uint64_t t, std::uint64_t thread, format::MarkerSource source,
                std::string_view label) noexcept;
    void rss(std::uint64_t t, std::uint64_t rss_bytes) noexcept;
    void lost(std::uint64_t t, std::uint64_t thread, std::uint64_t allocs, std::uint64_t frees,
              std::uint64_t bytes) noexcept;
    void end(std::uint64_t t, const EndRecord& r) noexcept;

private:
    bool reserve(std::size_t n) noexcept;
    void kind(format::RecordKind k) noexcept { buf_[size_++] = static_cast<std::uint8_t>(k); }
    void var(std::uint64_t v) noexcept;
    void svar(std::int64_t v) noexcept { var(format::zigzag(v)); }
    void u8(std::uint8_t v) noexcept { buf_[size_++] = v; }
    void str(std::string_view s) noexcept;
    void time(std::uint64_t t) noexcept;
    void address(std::uint64_t a) noexcept;

    std::uint8_t* buf_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::uint64_t last_time_ = 0;
    std::uint64_t last_addr_ = 0;
    bool ok_ = true;
};

// Writes a trace file: FileHeader, then one block per write_block() call. Every call is
// complete on return (header and payload written with write(2)), so a killed process leaves
// whole blocks behind. Errors are sticky: after the first failure every call returns false and
// error() holds the errno.
class TraceFileWriter {
public:
    // level: zstd level (1 by default); 0 writes raw (uncompressed) blocks.
    explicit TraceFileWriter(int level = 1) noexcept;
    // Any codec: kRaw, kZstd (compression.level) or kLz4.
    explicit TraceFileWriter(env::Compression compression) noexcept;
    ~TraceFileWriter();
    TraceFileWriter(const TraceFileWriter&) = delete;
    TraceFileWriter& operator=(const TraceFileWriter&) = delete;

    // Takes fd (not owned: the caller closes it) and writes the FileHeader.
    bool open(int fd) noexcept;
    bool write_block(std::span<const std::uint8_t> raw) noexcept;
    int error() const noexcept { return error_; }
    std::uint64_t bytes_written() const noexcept { return bytes_written_; }
    std::uint64_t blocks_written() const noexcept { return blocks_; }

private:
    bool fail(int err) noexcept;

    bool ensure_out(std::size_t bound) noexcept;

    int fd_ = -1;
    env::Compression compression_;
    int error_ = 0;
    void* cctx_ = nullptr;       // ZSTD_CCtx*, allocated through mmap
    void* lz4_state_ = nullptr;  // LZ4_compress_fast_extState's state, mmap'd
    std::size_t lz4_state_size_ = 0;
    std::uint8_t* out_ = nullptr;
    std::size_t out_capacity_ = 0;
    std::uint64_t bytes_written_ = 0;
    std::uint64_t blocks_ = 0;
};

}  // namespace heapwise::preload
