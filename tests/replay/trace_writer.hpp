// Writes small traces for the replay tests through the shim's own encoder and file writer
// (preload/encoder.hpp): real files in a real temp dir, records in one block per flush().
// Times are given in microseconds (tick_ns = 1000), stacks as raw frame lists.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "encoder.hpp"

namespace heapwise::test {

constexpr std::uint64_t kMs = 1000;         // ticks per millisecond
constexpr std::uint64_t kSec = 1000 * kMs;  // ticks per second

class TraceWriter {
public:
    // Opens path and writes the file header and a ProcessInfo record.
    explicit TraceWriter(const std::filesystem::path& path,
                         format::Mode mode = format::Mode::kLossless,
                         std::uint64_t sample_interval = 0);
    ~TraceWriter();  // flushes and closes
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    preload::BlockEncoder& enc() noexcept { return enc_; }
    void stack(std::uint64_t id, std::initializer_list<std::uintptr_t> frames);
    void alloc(std::uint64_t t, std::uint64_t addr, std::uint64_t size, std::uint64_t stack,
               std::uint64_t thread = 0, format::AllocFn fn = format::AllocFn::kMalloc);
    void free(std::uint64_t t, std::uint64_t addr, std::uint64_t thread = 0,
              format::FreeFn fn = format::FreeFn::kFree);
    void marker(std::uint64_t t, std::string_view label);
    void end(std::uint64_t t);
    void flush();   // writes the records so far as one block

private:
    int fd_ = -1;
    preload::TraceFileWriter writer_;
    preload::BlockEncoder enc_;
};

}  // namespace heapwise::test
