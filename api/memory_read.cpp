// Allocation-free readers for /proc and cgroup files (see memory_read.hpp).
// Everything here runs on the sampling path: stack buffers, raw syscalls, no exceptions.
#include "memory_read.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace heapwise::api {

PathBuf& PathBuf::add(std::string_view piece) noexcept {
    if (!ok_) return *this;
    if (len_ + piece.size() + 1 > kPathMax) {
        ok_ = false;
        return *this;
    }
    std::memcpy(buf_ + len_, piece.data(), piece.size());
    len_ += piece.size();
    buf_[len_] = '\0';
    return *this;
}

void PathBuf::truncate(std::size_t len) noexcept {
    if (len < len_) {
        len_ = len;
        buf_[len_] = '\0';
    }
}

namespace {

int open_read(const char* path) noexcept {
    int fd;
    do {
        fd = ::open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

long read_some(int fd, char* buf, std::size_t n) noexcept {
    for (;;) {
        ssize_t r = ::read(fd, buf, n);
        if (r >= 0 || errno != EINTR) return static_cast<long>(r);
    }
}

}  // namespace

long read_small_file(const char* path, char* buf, std::size_t cap) noexcept {
    if (cap == 0) return -1;
    int fd = open_read(path);
    if (fd < 0) return -1;
    std::size_t len = 0;
    // /proc files are generated per read() call; loop until EOF so a file larger than one
    // page still arrives whole.
    while (len + 1 < cap) {
        long r = read_some(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            ::close(fd);
            return -1;
        }
        if (r == 0) break;
        len += static_cast<std::size_t>(r);
    }
    ::close(fd);
    buf[len] = '\0';
    return static_cast<long>(len);
}

bool for_each_line(const char* path, LineFn fn, void* ctx) noexcept {
    int fd = open_read(path);
    if (fd < 0) return false;
    char buf[4096];
    std::size_t have = 0;
    bool skipping = false;  // inside a line longer than the buffer
    bool ok = true;
    for (;;) {
        long r = read_some(fd, buf + have, sizeof buf - have);
        if (r < 0) {
            ok = false;
            break;
        }
        std::size_t end = have + static_cast<std::size_t>(r);
        std::size_t start = 0;
        bool stop = false;
        for (std::size_t i = have; i < end; ++i) {
            if (buf[i] != '\n') continue;
            if (!skipping && !fn(ctx, std::string_view(buf + start, i - start))) {
                stop = true;
                break;
            }
            skipping = false;
            start = i + 1;
        }
        if (stop) break;
        if (r == 0) {
            if (!skipping && start < end) fn(ctx, std::string_view(buf + start, end - start));
            break;
        }
        if (start == 0 && end == sizeof buf) {
            skipping = true;  // no newline in a full buffer: drop this overlong line
            have = 0;
            continue;
        }
        std::memmove(buf, buf + start, end - start);
        have = end - start;
    }
    ::close(fd);
    return ok;
}

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == s.size() || s[i] < '0' || s[i] > '9') return false;
    std::uint64_t v = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        std::uint64_t d = static_cast<std::uint64_t>(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;  // overflow: not a figure we can trust
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool parse_kb_field(std::string_view line, std::string_view key, std::uint64_t& out) noexcept {
    if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 ||
        line[key.size()] != ':')
        return false;
    std::string_view rest = line.substr(key.size() + 1);
    std::uint64_t v;
    if (!parse_u64(rest, v)) return false;
    if (rest.find("kB") != std::string_view::npos) {
        if (v > UINT64_MAX / 1024) return false;
        v *= 1024;
    }
    out = v;
    return true;
}

bool read_limit_file(const char* path, std::uint64_t& value, bool& unlimited) noexcept {
    char buf[64];
    long n = read_small_file(path, buf, sizeof buf);
    if (n <= 0) return false;
    std::string_view s(buf, static_cast<std::size_t>(n));
    if (s.substr(0, 3) == "max") {
        unlimited = true;
        value = 0;
        return true;
    }
    std::uint64_t v;
    if (!parse_u64(s, v)) return false;
    // cgroup v1 reports "no limit" as PAGE_COUNTER_MAX pages, just under 2^63 (the exact value
    // depends on the page size), so anything from 2^62 up is treated as unlimited.
    unlimited = v >= (std::uint64_t{1} << 62);
    value = unlimited ? 0 : v;
    return true;
}

}  // namespace heapwise::api
