// The environment variables that configure the tracer (libheapwise_preload.so). `heapwise record`
// turns its options into these; a user of plain LD_PRELOAD sets them by hand. docs/tracer.md lists
// values and defaults. A malformed value makes the tracer print one line and leave the program
// untraced.
#pragma once

#include <cstring>

#include "heapwise/trace_format.hpp"

namespace heapwise::env {

inline constexpr const char* kOutput = "HEAPWISE_OUTPUT";            // path; %p pid, %e exe, %% %
inline constexpr const char* kDepth = "HEAPWISE_DEPTH";              // 1..1024 frames, default 64
inline constexpr const char* kUnwind = "HEAPWISE_UNWIND";            // cached | libunwind | fp
inline constexpr const char* kMode = "HEAPWISE_MODE";                // lossless | lossy | sampled
inline constexpr const char* kSampleInterval = "HEAPWISE_SAMPLE_INTERVAL";  // bytes, e.g. 512KiB
inline constexpr const char* kFollowExec = "HEAPWISE_FOLLOW_EXEC";   // 1 (default) | 0
inline constexpr const char* kFork = "HEAPWISE_FORK";                // trace (default) | stop
inline constexpr const char* kSnapshotSignal = "HEAPWISE_SNAPSHOT_SIGNAL";  // e.g. USR2 or 12
inline constexpr const char* kSnapshotEvery = "HEAPWISE_SNAPSHOT_EVERY";    // duration: 10s, 500ms
inline constexpr const char* kRssInterval = "HEAPWISE_RSS_INTERVAL";  // duration, default 100ms
inline constexpr const char* kFlushInterval = "HEAPWISE_FLUSH_INTERVAL";  // duration, default 1s max
inline constexpr const char* kRingSize = "HEAPWISE_RING_SIZE";        // events per thread ring
inline constexpr const char* kCompression = "HEAPWISE_COMPRESSION";   // see parse_compression
inline constexpr const char* kLive = "HEAPWISE_LIVE";                // 1 | 0 (default): live view from the start
// Set by the tracer itself (never by hand): the pid of the first traced process of a tree, when
// HEAPWISE_OUTPUT has no %p. Every other process adds ".<pid>" to the file name.
inline constexpr const char* kRootPid = "HEAPWISE_ROOT_PID";

// HEAPWISE_COMPRESSION: the block codec. `lz4` (the default), `zstd` (level 1), `zstd:LEVEL`
// (1..19) or `none`; a bare number is a zstd level (0 none), the variable's only syntax before
// trace format 1.2.
// One grammar for the tracer and `heapwise record --compression`: it allocates nothing.
struct Compression {
    format::BlockFlags codec = format::BlockFlags::kZstd;
    int level = 1;  // zstd's level; 0 for the other codecs
    friend bool operator==(const Compression&, const Compression&) = default;
};
inline constexpr int kMaxZstdLevel = 19;
inline constexpr const char* kCompressionExpected =
    "expected lz4, zstd, zstd:LEVEL (1 to 19) or none (a bare number is a zstd level, 0 none)";

inline bool parse_compression(const char* s, Compression& out) noexcept {
    if (s == nullptr) return false;
    if (std::strcmp(s, "none") == 0) {
        out = {format::BlockFlags::kRaw, 0};
        return true;
    }
    if (std::strcmp(s, "lz4") == 0) {
        out = {format::BlockFlags::kLz4, 0};
        return true;
    }
    if (std::strcmp(s, "zstd") == 0) {
        out = {format::BlockFlags::kZstd, 1};
        return true;
    }
    const bool named = std::strncmp(s, "zstd:", 5) == 0;
    const char* digits = named ? s + 5 : s;
    int level = 0;
    int n = 0;
    for (; digits[n] >= '0' && digits[n] <= '9'; ++n) {
        level = level * 10 + (digits[n] - '0');
        if (level > kMaxZstdLevel) return false;
    }
    if (n == 0 || digits[n] != '\0' || (named && level == 0)) return false;
    out = level == 0 ? Compression{format::BlockFlags::kRaw, 0} : Compression{format::BlockFlags::kZstd, level};
    return true;
}

}  // namespace heapwise::env
