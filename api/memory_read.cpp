// Allocation-free readers for /proc and cgroup files (see memory_read.hpp).
// Everything here runs on the sampling path: stack buffers, raw syscalls, no exceptions.
#include "memory_read.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <mutex>

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

// cgroup files stay open between samples and are read with pread at offset 0: opening and
// closing them was a large part of a sample's cost. Only files on a cgroup filesystem are kept:
// the kernel makes their content at each read, nothing replaces them in place, and a removed
// cgroup fails the read, which then closes the file and reads it afresh. Other files (/proc,
// test fixtures on ordinary filesystems) are opened for each read. The lock is held while a
// kept file is read, so no thread closes a descriptor another is reading.
class HeldFiles {
public:
    static constexpr int kSlots = 16;
    std::mutex mu;

    int find(const char* path) const noexcept {
        for (int i = 0; i < kSlots; ++i) {
            if (slots_[i].fd >= 0 && std::strcmp(slots_[i].path, path) == 0) return i;
        }
        return -1;
    }
    // Keeps fd for path (which must fit PathBuf::kPathMax); returns its slot.
    int insert(const char* path, int fd) noexcept {
        int i = next_;
        next_ = (next_ + 1) % kSlots;
        drop(i);
        std::strncpy(slots_[i].path, path, sizeof slots_[i].path - 1);
        slots_[i].fd = fd;
        return i;
    }
    int fd(int slot) const noexcept { return slots_[slot].fd; }
    void drop(int slot) noexcept {
        if (slots_[slot].fd >= 0) ::close(slots_[slot].fd);
        slots_[slot].fd = -1;
    }

private:
    struct Slot {
        int fd = -1;
        char path[PathBuf::kPathMax] = {};
    };
    Slot slots_[kSlots];
    int next_ = 0;
};

HeldFiles& held_files() noexcept {
    static HeldFiles* h = new HeldFiles;  // never destroyed: samplers may outlive statics
    return *h;
}

bool on_cgroupfs(int fd) noexcept {
    struct statfs st;
    if (::fstatfs(fd, &st) != 0) return false;
    return st.f_type == CGROUP2_SUPER_MAGIC || st.f_type == CGROUP_SUPER_MAGIC;
}

// One read of a whole file from its start: a kept cgroup file (under the lock) or a fresh open.
class FileReader {
public:
    explicit FileReader(const char* path) noexcept : path_(path) {
        HeldFiles& h = held_files();
        std::unique_lock lk(h.mu);
        slot_ = h.find(path);
        if (slot_ >= 0) {
            fd_ = h.fd(slot_);
            lk_ = std::move(lk);
            return;
        }
        lk.unlock();
        fd_ = open_read(path);
        if (fd_ < 0 || std::strlen(path) >= PathBuf::kPathMax || !on_cgroupfs(fd_)) return;
        lk.lock();
        if (int other = h.find(path); other >= 0) {  // another thread kept it meanwhile
            ::close(fd_);
            slot_ = other;
            fd_ = h.fd(other);
        } else {
            slot_ = h.insert(path, fd_);
        }
        lk_ = std::move(lk);
    }
    FileReader(const FileReader&) = delete;
    FileReader& operator=(const FileReader&) = delete;
    ~FileReader() {
        if (slot_ < 0 && fd_ >= 0) ::close(fd_);
    }
    bool ok() const noexcept { return fd_ >= 0; }

    // The next bytes (0 at the end, -1 on error).
    long read(char* buf, std::size_t n) noexcept {
        if (slot_ < 0) return read_some(fd_, buf, n);
        if (at_end_) return 0;
        ssize_t r;
        do {
            r = ::pread(fd_, buf, n, offset_);
        } while (r < 0 && errno == EINTR);
        if (r >= 0) {
            // A cgroup file's read fills the buffer unless the content ends first: a short
            // read is the end, with no second call to see 0.
            at_end_ = static_cast<std::size_t>(r) < n;
            offset_ += r;
            return static_cast<long>(r);
        }
        // A kept file that fails (its cgroup was removed, maybe made again): forget it and,
        // if nothing was read yet, read the path afresh.
        held_files().drop(slot_);
        slot_ = -1;
        lk_.unlock();
        fd_ = offset_ == 0 ? open_read(path_) : -1;
        return fd_ >= 0 ? read_some(fd_, buf, n) : -1;
    }

private:
    const char* path_;
    int fd_ = -1;
    int slot_ = -1;  // >= 0: a kept file, lk_ held
    off_t offset_ = 0;
    bool at_end_ = false;
    std::unique_lock<std::mutex> lk_;
};

}  // namespace

long read_small_file(const char* path, char* buf, std::size_t cap) noexcept {
    if (cap == 0) return -1;
    FileReader f(path);
    if (!f.ok()) return -1;
    std::size_t len = 0;
    // /proc files are generated per read() call; loop until EOF so a file larger than one
    // page still arrives whole.
    while (len + 1 < cap) {
        long r = f.read(buf + len, cap - 1 - len);
        if (r < 0) return -1;
        if (r == 0) break;
        len += static_cast<std::size_t>(r);
    }
    buf[len] = '\0';
    return static_cast<long>(len);
}

bool for_each_line(const char* path, LineFn fn, void* ctx) noexcept {
    FileReader f(path);
    if (!f.ok()) return false;
    char buf[4096];
    std::size_t have = 0;
    bool skipping = false;  // inside a line longer than the buffer
    bool ok = true;
    for (;;) {
        long r = f.read(buf + have, sizeof buf - have);
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
