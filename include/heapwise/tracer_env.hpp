// The environment variables that configure the tracer (libheapwise_preload.so). `heapwise record`
// turns its options into these; a user of plain LD_PRELOAD sets them by hand. docs/tracer.md lists
// values and defaults. A malformed value makes the tracer print one line and leave the program
// untraced.
#pragma once

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
inline constexpr const char* kCompression = "HEAPWISE_COMPRESSION";   // zstd level, default 1
inline constexpr const char* kLive = "HEAPWISE_LIVE";                // 1 | 0 (default): live view from the start
// Set by the tracer itself (never by hand): the pid of the first traced process of a tree, when
// HEAPWISE_OUTPUT has no %p. Every other process adds ".<pid>" to the file name.
inline constexpr const char* kRootPid = "HEAPWISE_ROOT_PID";

}  // namespace heapwise::env
