// Linux implementation of sys.hpp: raw syscalls and /proc. Nothing here allocates through malloc,
// so the hooks, the writer thread and the fork child handler may all call it.
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "sys.hpp"

namespace heapwise::sys {

std::uint64_t unix_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

int gettid() noexcept { return static_cast<int>(syscall(SYS_gettid)); }
int getpid() noexcept { return static_cast<int>(syscall(SYS_getpid)); }
int getppid() noexcept { return static_cast<int>(syscall(SYS_getppid)); }

std::size_t page_round(std::size_t bytes) noexcept {
    constexpr std::size_t kPage = 4096;
    return (bytes + kPage - 1) & ~(kPage - 1);
}

void* map_pages(std::size_t bytes) noexcept {
    void* p = mmap(nullptr, page_round(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

void* map_pages_populated(std::size_t bytes) noexcept {
    void* p = mmap(nullptr, page_round(bytes), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

void unmap_pages(void* p, std::size_t bytes) noexcept {
    if (p != nullptr) munmap(p, page_round(bytes));
}

void* remap_pages(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept {
    void* q = mremap(p, page_round(old_bytes), page_round(new_bytes), MREMAP_MAYMOVE);
    return q == MAP_FAILED ? nullptr : q;
}

bool write_all(int fd, const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (w == 0) {
            errno = ENOSPC;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

long read_file(const char* path, char* buf, std::size_t cap) noexcept {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    std::size_t got = 0;
    while (got < cap) {
        const ssize_t r = ::read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    ::close(fd);
    return static_cast<long>(got);
}

int create_file(const char* path) noexcept {
    return ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

int open_read(const char* path) noexcept { return ::open(path, O_RDONLY | O_CLOEXEC); }

long pread_at(int fd, void* buf, std::size_t n, std::uint64_t off) noexcept {
    return static_cast<long>(::pread(fd, buf, n, static_cast<off_t>(off)));
}

void close_fd(int fd) noexcept {
    if (fd >= 0) ::close(fd);
}

std::uint64_t rss_bytes() noexcept {
    char buf[128];
    const long n = read_file("/proc/self/statm", buf, sizeof(buf) - 1);
    if (n <= 0) return 0;
    // Second field: resident pages.
    long i = 0;
    while (i < n && buf[i] != ' ') ++i;
    ++i;
    std::uint64_t pages = 0;
    while (i < n && buf[i] >= '0' && buf[i] <= '9') pages = pages * 10 + static_cast<std::uint64_t>(buf[i++] - '0');
    return pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void sleep_ns(std::uint64_t ns) noexcept {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void futex_wait(const void* word, std::uint32_t expected, std::uint64_t ns) noexcept {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

void futex_wake(const void* word) noexcept {
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

void yield() noexcept { sched_yield(); }

void block_all_signals() noexcept {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

}  // namespace heapwise::sys
