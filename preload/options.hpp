// The tracer's settings, parsed from the HEAPWISE_* environment (include/heapwise/tracer_env.hpp)
// without allocating, and the output path pattern (%p pid, %e executable name, %% percent).
// A malformed value yields one message naming the variable; the caller then leaves the program
// untraced.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heapwise/trace_format.hpp"
#include "heapwise/tracer_env.hpp"

namespace heapwise::preload {

enum class ForkMode : std::uint8_t { kTrace, kStop };

struct Options {
    char output[1024] = "heapwise.%e.%p.hwt";
    std::uint32_t depth = 64;
    format::Unwinder unwinder = format::Unwinder::kLibunwind;
    format::Mode mode = format::Mode::kLossless;
    std::uint64_t sample_interval = 512 * 1024;  // bytes; used when mode is kSampled
    bool follow_exec = true;
    ForkMode fork = ForkMode::kTrace;
    int snapshot_signal = 0;               // 0: off
    std::uint64_t snapshot_every_ns = 0;   // 0: off
    std::uint64_t rss_interval_ns = 100'000'000;
    std::uint64_t flush_interval_ns = 1'000'000'000;
    std::uint32_t ring_size = 16384;       // events per thread, a power of two
    // The block codec (HEAPWISE_COMPRESSION). LZ4 by default: the analyzer decodes it faster and
    // the writer thread spends less on it than on zstd -1, for traces 1.2-1.5x larger
    // (docs/trace-format.md 3.2 has the measurements).
    env::Compression compression{format::BlockFlags::kLz4, 0};
    bool live = false;                     // live aggregation from the start (tracer_live.h)
};

struct OptionError {
    char message[256] = "";
};

// lookup(name) returns the variable's value or nullptr (getenv in the shim, a map in tests).
using EnvLookup = const char* (*)(const char* name, void* ctx);
bool parse_options(EnvLookup lookup, void* ctx, Options& out, OptionError& err) noexcept;

// "NAME=value\n" for every setting in force (ProcessInfo.options). Returns the length written.
std::size_t describe_options(const Options& o, char* buf, std::size_t cap) noexcept;

// Expands the output pattern. When add_pid_suffix is set and the pattern has no %p, ".<pid>" goes
// before the extension of the last path component (or at the end), so a child never shares its
// parent's file. False (with err) on a malformed pattern or a too long result.
bool expand_output_path(const char* pattern, int pid, const char* exe_name, bool add_pid_suffix,
                        char* out, std::size_t cap, OptionError& err) noexcept;
bool pattern_has_pid(const char* pattern) noexcept;

// Building blocks, exposed for tests. All return false on malformed input.
bool parse_uint(const char* s, std::uint64_t& out) noexcept;
bool parse_bytes(const char* s, std::uint64_t& out) noexcept;     // 512KiB, 1M, 4096
bool parse_duration(const char* s, std::uint64_t& ns) noexcept;   // 10s, 500ms, 100us, 1m, 2h
bool parse_signal(const char* s, int& sig) noexcept;              // USR2, SIGUSR2, 12, off

}  // namespace heapwise::preload
