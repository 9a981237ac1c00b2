// The operating-system seam of the shim: clocks, thread ids, raw memory, raw I/O and /proc reads.
// Everything here is async-signal-safe or at least allocation-free: no libc stdio, no malloc.
// The clock is inline because every event reads it (CLOCK_MONOTONIC through the vDSO, no syscall).
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>

namespace heapwise::sys {

inline std::uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}
std::uint64_t unix_ns() noexcept;

int gettid() noexcept;  // raw syscall: right after fork and in vfork children too
int getpid() noexcept;
int getppid() noexcept;

// Anonymous private read-write pages, never from the traced malloc. nullptr on failure.
void* map_pages(std::size_t bytes) noexcept;
// The same, faulted in by the kernel at once: for a buffer about to be filled whole.
void* map_pages_populated(std::size_t bytes) noexcept;
void unmap_pages(void* p, std::size_t bytes) noexcept;
// Grows a mapping (moves it if needed); nullptr on failure, the old mapping then stays valid.
void* remap_pages(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept;
std::size_t page_round(std::size_t bytes) noexcept;

// write(2) until done; retries EINTR. false on any other error (errno is kept).
bool write_all(int fd, const void* data, std::size_t n) noexcept;
// Reads up to cap bytes of a whole file (a /proc file); -1 on error. No allocation.
long read_file(const char* path, char* buf, std::size_t cap) noexcept;
// Creates (truncating) a trace file 0600 with O_CLOEXEC; -1 and errno on failure.
int create_file(const char* path) noexcept;
int open_read(const char* path) noexcept;
long pread_at(int fd, void* buf, std::size_t n, std::uint64_t off) noexcept;
void close_fd(int fd) noexcept;

// Resident set size from /proc/self/statm, 0 when unreadable.
std::uint64_t rss_bytes() noexcept;

void sleep_ns(std::uint64_t ns) noexcept;
// Sleeps up to ns while *word == expected (FUTEX_WAIT, private); returns at once otherwise.
void futex_wait(const void* word, std::uint32_t expected, std::uint64_t ns) noexcept;
// Wakes every thread in futex_wait on word.
void futex_wake(const void* word) noexcept;
void yield() noexcept;
// Blocks every signal in the calling thread (the writer must never run a program's handler).
void block_all_signals() noexcept;

}  // namespace heapwise::sys
