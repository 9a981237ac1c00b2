// The shim's log: a stack buffer per line, one write(2), a token bucket of 5 lines per second so
// a failing disk cannot flood the program's stderr. check_failed aborts after its line.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "check.hpp"
#include "sys.hpp"

namespace heapwise::preload {
namespace {

std::atomic<int> g_log_fd{2};
std::atomic<std::uint64_t> g_window_start{0};
std::atomic<std::uint32_t> g_lines_in_window{0};
constexpr std::uint32_t kLinesPerSecond = 5;

bool may_log() noexcept {
    const std::uint64_t now = sys::now_ns();
    std::uint64_t start = g_window_start.load(std::memory_order_relaxed);
    if (now - start > 1'000'000'000ull &&
        g_window_start.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
        g_lines_in_window.store(0, std::memory_order_relaxed);
    }
    return g_lines_in_window.fetch_add(1, std::memory_order_relaxed) < kLinesPerSecond;
}

}  // namespace

void set_log_fd(int fd) noexcept { g_log_fd.store(fd, std::memory_order_relaxed); }

LogLine::LogLine() noexcept : len_(0) { *this << "heapwise: "; }

LogLine& LogLine::operator<<(std::string_view s) noexcept {
    const std::size_t room = sizeof(buf_) - 1 - len_;  // keep one byte for '\n'
    const std::size_t n = s.size() < room ? s.size() : room;
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += static_cast<std::uint32_t>(n);
    return *this;
}

LogLine& LogLine::operator<<(std::int64_t v) noexcept {
    char tmp[24];
    int i = sizeof(tmp);
    const bool neg = v < 0;
    std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    do {
        tmp[--i] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (neg) tmp[--i] = '-';
    return *this << std::string_view(tmp + i, sizeof(tmp) - static_cast<std::size_t>(i));
}

LogLine::~LogLine() {
    buf_[len_++] = '\n';
    if (may_log()) sys::write_all(g_log_fd.load(std::memory_order_relaxed), buf_, len_);
}

void check_failed(const char* expr, const char* file, int line) noexcept {
    {
        LogLine l;
        l << "internal check failed: " << expr << " at " << file << ":" << line;
    }
    std::abort();
}

}  // namespace heapwise::preload
