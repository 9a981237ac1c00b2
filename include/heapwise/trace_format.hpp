// The heapwise trace format: the one contract between the tracer (writer) and the analyzer and
// the live leak detector (readers). docs/trace-format.md describes the same bytes in prose.
// Freestanding on purpose: no allocation, no exceptions, no I/O, so the shim's writer thread and
// any reader can include it. All multi-byte integers are little-endian.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "heapwise/crc32c.hpp"

namespace heapwise::format {

// ---- File layout ---------------------------------------------------------------------------
// FileHeader, then blocks until end of file. Each block is a BlockHeader and a payload that is
// raw bytes, one zstd frame or one LZ4 block (BlockFlags); the decompressed payload is a sequence
// of records. Records never straddle blocks, and all delta state (time, address) restarts at each
// block, so a reader can resynchronize at any block after damage by scanning for kBlockMagic with
// a valid header_crc.

inline constexpr std::array<char, 8> kFileMagic = {'H', 'E', 'A', 'P', 'W', 'I', 'S', 'E'};
inline constexpr std::uint16_t kVersionMajor = 1;  // incompatible changes
inline constexpr std::uint16_t kVersionMinor = 2;  // additions: sized kinds, block codecs
inline constexpr std::uint32_t kBlockMagic = 0x4B425748;    // bytes "HWBK"
inline constexpr std::uint32_t kMaxBlockRawSize = 16u << 20;  // readers reject larger blocks
// Any codec's stored payload fits in this (zstd's and LZ4's bounds for 16 MiB do), so a reader
// can bound a block of a codec it does not know before reading it.
inline constexpr std::uint32_t kMaxBlockStoredSize = kMaxBlockRawSize + kMaxBlockRawSize / 128;
inline constexpr std::uint32_t kMaxStringSize = 64u << 10;    // writers truncate longer strings
inline constexpr std::uint32_t kMaxStackDepth = 1024;         // readers reject deeper stacks

struct FileHeader {
    std::array<char, 8> magic;   // kFileMagic
    std::uint16_t version_major;
    std::uint16_t version_minor;
    std::uint32_t header_size;   // sizeof(FileHeader) today; readers seek to this offset
    std::uint32_t flags;         // 0; reserved
    std::uint32_t pointer_size;  // 8 on x86-64
    std::uint64_t reserved;      // 0
};
static_assert(sizeof(FileHeader) == 32);
static_assert(std::is_trivially_copyable_v<FileHeader>);

// The block codec. A new codec is a minor addition (1.2 added kLz4): a reader that meets a value
// it does not know must not interpret the payload; it reports the block as written with a codec
// it cannot read (naming the value and the file's version) and goes on at the next block, whose
// place the crc-checked stored_size gives. Readers of 1.0 and 1.1 report such a block as corrupt
// ("impossible sizes or flags (flags 2 ...)") and stop there; they never misread it. A writer
// that must stay readable by them uses kZstd or kRaw.
enum class BlockFlags : std::uint32_t {
    kRaw = 0,   // payload is the records themselves
    kZstd = 1,  // payload is exactly one zstd frame holding the records
    kLz4 = 2,   // since 1.2: payload is exactly one LZ4 block (no frame) that decodes to exactly
                // raw_size bytes (LZ4_decompress_safe); 1 <= stored_size <= LZ4_compressBound(16 MiB)
};
inline constexpr std::uint32_t kBlockFlagsCount = 3;

struct BlockHeader {
    std::uint32_t magic;        // kBlockMagic
    std::uint32_t flags;        // BlockFlags
    std::uint32_t stored_size;  // payload bytes that follow this header
    std::uint32_t raw_size;     // payload bytes after decompression (== stored_size when raw)
    std::uint32_t payload_crc;  // crc32c of the stored payload bytes
    std::uint32_t header_crc;   // crc32c of the 20 bytes above
};
static_assert(sizeof(BlockHeader) == 24);
static_assert(std::is_trivially_copyable_v<BlockHeader>);

// ---- Records ---------------------------------------------------------------------------------
// A record is one kind byte and its fields. Field types: u8 (one byte), var (unsigned LEB128, at
// most 10 bytes), svar (zigzag-encoded signed value as var), str (var length, then that many
// bytes, no terminator), bytes (same as str).
//
// Time: every record except kPadding, kProcessInfo and kStack starts with `dt` (var): ticks since
// the previous timed record of the same block; the first timed record of a block counts from 0,
// i.e. carries the absolute time. A tick is ProcessInfo.tick_ns nanoseconds; time 0 is
// ProcessInfo.start_monotonic_ns on CLOCK_MONOTONIC.
//
// Addresses: alloc, free and realloc-failed records carry `addr` as svar: the difference to the
// previous address in the same block (0 at block start).
//
// Order is truth: records appear in the order the events happened across all threads; a reader
// replays them in file order. The tracer guarantees it for address reuse by recording a free
// before the memory is released, an allocation after it is obtained, and writing events in
// timestamp order from a clock that is monotonic across CPUs (see docs/trace-format.md).
//
// Retired kinds stay listed so old files still parse.
enum class RecordKind : std::uint8_t {
    kPadding = 0,        // no fields; readers skip it
    kProcessInfo = 1,    // first record of the first block; fields below
    kModuleLoad = 2,     // dt, module:var, load_bias:var, path:str, build_id:bytes,
                         // nseg:var, nseg x {vaddr:var, memsz:var, offset:var, flags:u8}
    kModuleUnload = 3,   // dt, module:var
    kThreadStart = 4,    // dt, thread:var, tid:var, name:str
    kThreadExit = 5,     // dt, thread:var
    kThreadName = 6,     // dt, thread:var, name:str
    kStack = 7,          // id:var, format:u8, nown:var, nown x frame, base:var, base_from:var
    kAlloc = 8,          // dt, thread:var, addr:svar, size:var, stack:var, fn:u8 (AllocFn)
    kFree = 9,           // dt, thread:var, addr:svar, fn:u8 (FreeFn)
    kReallocFailed = 10, // dt, thread:var, addr:svar
    kMarker = 11,        // dt, thread:var, source:u8 (MarkerSource), label:str
    kRss = 12,           // dt, rss_bytes:var
    kLost = 13,          // dt, thread:var, allocs:var, frees:var, bytes:var
    kEnd = 14,           // dt, reason:u8 (EndReason), events:var, allocs:var, frees:var,
                         // bytes_allocated:var, lost_events:var, stacks:var, threads:var
};
inline constexpr std::uint8_t kRecordKindCount = 15;

// Extension records: a kind byte >= kFirstSizedKind is followed by len:var and len bytes of
// fields. Compatible additions (a minor version) add new kinds only in this range and never add
// fields to an existing kind, so a reader skips any sized kind it does not know and goes on.
// Kinds between kRecordKindCount and kFirstSizedKind are reserved for a new major version.
inline constexpr std::uint8_t kFirstSizedKind = 128;

// Sized kinds (minor versions), each followed by len:var and then its fields.
enum class SizedKind : std::uint8_t {
    // Since 1.1. Fields: id:var. Stack `id` is the tracer's internal stack: allocations the
    // program made inside its own bookkeeping (heapwise_tracer_internal_begin/_end in
    // tracer_live.h), recorded without unwinding. Its kStack record (no frames) comes first, this
    // record right after it, both before the first event naming the id. Readers leave the stack
    // out of per-site figures; its blocks stay tracked so their frees remain consistent.
    kInternalStack = 129,  // 128 stays unassigned (readers' tests use it as an unknown kind)
};

// kProcessInfo fields, in order:
//   pid:var, ppid:var, start_unix_ns:var, start_monotonic_ns:var, tick_ns:var,
//   pointer_size:u8, mode:u8 (Mode), sample_interval:var (mean bytes between samples; 0 unless
//   mode is kSampled), unwinder:u8 (Unwinder), max_depth:var, exe:str, cwd:str, argc:var,
//   argc x arg:str, options:str (the HEAPWISE_* settings in force, "NAME=value" lines)
enum class Mode : std::uint8_t {
    kLossless = 0,  // a full ring makes the producer wait; nothing is left out
    kLossy = 1,     // a full ring drops the event; kLost records count what was dropped
    kSampled = 2,   // allocations sampled by bytes (Poisson, mean sample_interval); only sampled
                    // blocks are recorded, with their frees; scale a sampled block of size s by
                    // 1 / (1 - exp(-s / sample_interval))
};

enum class Unwinder : std::uint8_t {
    kNone = 0,
    kLibunwind = 1,        // unw_backtrace on every event
    kFramePointer = 2,     // frame-pointer walk
    kLibunwindCached = 3,  // libunwind, reusing the still-valid outer part of the previous stack
};

// kStack: frames are leaf first, the tracer's own frames excluded. format 0: each frame is a
// return address (a reader looks up address - 1); the first frame is a var, each later one an
// svar delta to the frame before it. The full stack is the nown frames, then the frames of stack
// `base` (an earlier stack id, 0 for none) from index base_from on. Stack ids start at 1; id 0 in
// an event means "no stack captured". A stack record precedes every event that names it.
enum class FrameFormat : std::uint8_t {
    kReturnAddresses = 0,
    // Later formats may mix interpreted (Python, JavaScript) frames with native ones.
};

enum class AllocFn : std::uint8_t {
    kMalloc = 0,
    kCalloc = 1,
    kRealloc = 2,        // the new block of a realloc; its old block got a kFree with kRealloc
    kReallocArray = 3,
    kPosixMemalign = 4,
    kAlignedAlloc = 5,
    kMemalign = 6,
    kValloc = 7,
    kPvalloc = 8,
    kOperatorNew = 9,    // only where operator new does not go through malloc
    kOperatorNewArray = 10,
};
inline constexpr std::uint8_t kAllocFnCount = 11;

// A realloc(p, n) with p != NULL and n != 0 is recorded as kFree(p, kRealloc) before the call and
// kAlloc(q, n, kRealloc) after it succeeds; if it fails, kReallocFailed(p) follows the kFree and
// restores p as it was. realloc(NULL, n) is a kAlloc; realloc(p, 0), which frees p, a kFree.
enum class FreeFn : std::uint8_t {
    kFree = 0,
    kRealloc = 1,
    kReallocArray = 2,
    kOperatorDelete = 3,  // only where operator delete does not go through free
};
inline constexpr std::uint8_t kFreeFnCount = 4;

enum class MarkerSource : std::uint8_t {
    kCall = 0,    // heapwise_snapshot() from the program
    kSignal = 1,  // HEAPWISE_SNAPSHOT_SIGNAL
    kPeriod = 2,  // HEAPWISE_SNAPSHOT_EVERY
    kApi = 3,     // the in-process leak detector
};

enum class EndReason : std::uint8_t {
    kExit = 0,          // exit() or return from main
    kExec = 1,          // the process image was replaced; the new image writes its own trace
    kError = 2,         // tracing stopped after an I/O error or a broken invariant
    kSignal = 3,        // a fatal signal
    kForkStopped = 4,   // written by nobody; reserved
};

// ---- Encoding helpers (shared by the writer and every reader) --------------------------------

inline constexpr std::size_t kMaxVarintSize = 10;

// Writes v as unsigned LEB128 at p, returns the byte past it. p needs kMaxVarintSize bytes.
inline std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) noexcept {
    while (v >= 0x80) {
        *p++ = static_cast<std::uint8_t>(v | 0x80);
        v >>= 7;
    }
    *p++ = static_cast<std::uint8_t>(v);
    return p;
}

inline constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reads an unsigned LEB128 from [p, end). Returns false (and leaves p alone) when the value is
// truncated or longer than 10 bytes.
inline bool get_varint(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& out) noexcept {
    std::uint64_t v = 0;
    const std::uint8_t* q = p;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (q == end) return false;
        const std::uint8_t b = *q++;
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            out = v;
            p = q;
            return true;
        }
    }
    return false;
}

// CRC-32C of block headers and payloads: crc32c() in heapwise/crc32c.hpp.
inline std::uint32_t block_header_crc(const BlockHeader& h) noexcept {
    return crc32c(&h, offsetof(BlockHeader, header_crc));
}

inline FileHeader make_file_header() noexcept {
    FileHeader h{};
    h.magic = kFileMagic;
    h.version_major = kVersionMajor;
    h.version_minor = kVersionMinor;
    h.header_size = sizeof(FileHeader);
    h.pointer_size = sizeof(void*);
    return h;
}

}  // namespace heapwise::format
