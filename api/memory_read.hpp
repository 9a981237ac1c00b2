// Allocation-free file reading for the memory sampler: paths built in stack buffers, files read
// with open/read into stack buffers, line-by-line parsing of /proc and cgroup files.
// Must never allocate, throw or use iostreams: a sample is meant to cost microseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace heapwise::api {

// A path of at most kPathMax bytes built from pieces, NUL-terminated; `ok()` is false when the
// pieces did not fit (the read then fails as if the file were missing).
class PathBuf {
public:
    static constexpr std::size_t kPathMax = 512;
    PathBuf() = default;
    PathBuf& add(std::string_view piece) noexcept;
    bool ok() const noexcept { return ok_; }
    const char* c_str() const noexcept { return buf_; }
    std::string_view view() const noexcept { return {buf_, len_}; }
    std::size_t size() const noexcept { return len_; }
    void truncate(std::size_t len) noexcept;

private:
    char buf_[kPathMax] = {};
    std::size_t len_ = 0;
    bool ok_ = true;
};

// Reads at most cap - 1 bytes of a file, NUL-terminates, returns the byte count or -1.
long read_small_file(const char* path, char* buf, std::size_t cap) noexcept;

// Calls fn(line) for every line of the file (without the newline); lines longer than the
// internal 4 KiB buffer are skipped. fn returns false to stop early. False if unreadable.
using LineFn = bool (*)(void* ctx, std::string_view line);
bool for_each_line(const char* path, LineFn fn, void* ctx) noexcept;

template <class F>
bool for_each_line(const char* path, F&& fn) noexcept {
    return for_each_line(
        path, [](void* ctx, std::string_view line) { return (*static_cast<F*>(ctx))(line); },
        &fn);
}

// Parses an unsigned decimal at the start of s (after spaces); false when there is none.
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept;

// For "Key:   123 kB" lines: when line starts with key followed by ':', parses the number and
// scales it by 1024 when the unit is kB.
bool parse_kb_field(std::string_view line, std::string_view key, std::uint64_t& out) noexcept;

// A single-number cgroup file: a decimal, or "max" (unlimited). Returns false if unreadable or
// malformed; sets unlimited for "max" and for v1's near-2^63 "no limit" values.
bool read_limit_file(const char* path, std::uint64_t& value, bool& unlimited) noexcept;

}  // namespace heapwise::api
