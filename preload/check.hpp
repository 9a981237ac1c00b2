// Checks and the shim's one-line log. HW_CHECK is always compiled, HW_DCHECK only in debug
// builds; their failure path is cold, noinline and never allocates. The log writes through a
// stack buffer and write(2), rate-limited, so it is safe from any hook and from the writer.
#pragma once

#include <cstdint>
#include <string_view>

namespace heapwise::preload {

[[noreturn, gnu::noinline, gnu::cold]] void check_failed(const char* expr, const char* file,
                                                         int line) noexcept;

// One line "heapwise: <parts...>" on stderr; at most a few lines per second get through.
class LogLine {
public:
    LogLine() noexcept;
    LogLine& operator<<(std::string_view s) noexcept;
    LogLine& operator<<(const char* s) noexcept { return *this << std::string_view(s ? s : ""); }
    LogLine& operator<<(std::int64_t v) noexcept;
    LogLine& operator<<(int v) noexcept { return *this << static_cast<std::int64_t>(v); }
    LogLine(const LogLine&) = delete;
    LogLine& operator=(const LogLine&) = delete;
    ~LogLine();  // writes the line

private:
    char buf_[512];
    std::uint32_t len_;
};

// Test hook: where log lines go (default 2). Not for the hot path.
void set_log_fd(int fd) noexcept;

}  // namespace heapwise::preload

#define HW_CHECK(cond)                                                                  \
    do {                                                                                \
        if (!(cond)) [[unlikely]]                                                       \
            ::heapwise::preload::check_failed(#cond, __FILE__, __LINE__);              \
    } while (0)

#ifdef NDEBUG
#define HW_DCHECK(cond) \
    do {                \
    } while (0 && (cond))
#else
#define HW_DCHECK(cond) HW_CHECK(cond)
#endif
