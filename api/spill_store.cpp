// SpillStore: directory safety, file I/O and the age index of the cache's spill files.
// File I/O runs under dir_mu_ shared (many writers and readers at once, never a shard lock);
// creating or removing the directory takes it exclusively.
#include "spill_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "cache_crc.hpp"
#include "cache_hash.hpp"
#include "heapwise/cache.hpp"
#include "spill_format.hpp"

namespace heapwise::api {
namespace {

[[noreturn]] void fail_dir(const std::string& path, const std::string& why) {
    throw CacheError(CacheError::Code::spill_dir,
                     "heapwise::Cache: cannot use spill directory '" + path + "': " + why);
}

bool write_all(int fd, const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = ENOSPC;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t n, off_t off) noexcept {
    auto* p = static_cast<char*>(data);
    while (n > 0) {
        ssize_t r = ::pread(fd, p, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
        off += r;
    }
    return true;
}

bool is_temporary_name(std::string_view name) {
    return name.size() == 16 + 1 + 16 + 4 && name.ends_with(".tmp") && name[16] == '-';
}

// Reads and checks one file completely; `key` receives the stored key.
ReadStatus read_file(int dir_fd, const std::string& name, std::uint64_t seq,
                     std::optional<std::string_view> expect_key,
                     std::optional<std::size_t> expect_value, Allocator allocator,
                     spill::FileHeader& h, std::string& key, Bytes& value) {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? ReadStatus::missing : ReadStatus::corrupt;
    struct stat st{};
    ReadStatus status = ReadStatus::corrupt;
    do {
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) break;
        if (!read_all(fd, &h, sizeof h, 0)) break;
        if (h.magic != spill::kMagic || h.version != spill::kVersion ||
            h.header_crc != crc32c(&h, spill::kHeaderCrcSpan) || h.seq != seq) {
            break;
        }
        if (expect_key && h.key_len != expect_key->size()) break;
        if (expect_value && h.value_len != *expect_value) break;
        if (static_cast<std::uint64_t>(st.st_size) != sizeof h + h.key_len + h.value_len) break;
        key.resize(h.key_len);
        if (!read_all(fd, key.data(), key.size(), sizeof h)) break;
        if (expect_key && key != *expect_key) break;
        value = Bytes::uninitialized(static_cast<std::size_t>(h.value_len), allocator);
        if (!read_all(fd, value.data(), value.size(),
                      static_cast<off_t>(sizeof h + h.key_len))) {
            break;
        }
        std::uint32_t crc = crc32c(key.data(), key.size());
        if (crc32c(value.data(), value.size(), crc) != h.payload_crc) break;
        status = ReadStatus::ok;
    } while (false);
    ::close(fd);
    if (status != ReadStatus::ok) value = Bytes();
    return status;
}

}  // namespace

SpillStore::SpillStore(SpillOptions options) : options_(std::move(options)) {
    dir_fd_ = open_directory();
}

SpillStore::~SpillStore() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

int SpillStore::open_directory() {
    const std::string& parent = options_.parent;
    struct stat st{};
    if (::stat(parent.c_str(), &st) != 0) fail_dir(parent, std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) fail_dir(parent, "not a directory");
    std::string path;
    if (options_.persistent) {
        path = parent + "/heapwise-cache." + options_.name;
        if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
            fail_dir(path, std::strerror(errno));
        }
    } else {
        std::string tmpl = parent + "/heapwise-cache.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) {
            fail_dir(parent, std::string("cannot create a private directory in it: ") +
                                 std::strerror(errno));
        }
        path = tmpl;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        fail_dir(path, err == ELOOP || err == ENOTDIR ? "it is a symbolic link or not a directory"
                                                      : std::strerror(err));
    }
    std::string why;
    if (::fstat(fd, &st) != 0) {
        why = std::strerror(errno);
    } else if (st.st_uid != ::geteuid()) {
        why = "it is owned by uid " + std::to_string(st.st_uid) + ", not by this process (uid " +
              std::to_string(::geteuid()) + ")";
    } else if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        why = std::string("other users can access it (mode ") + mode + ", expected 0700)";
    } else if (options_.persistent && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        why = errno == EWOULDBLOCK ? "another cache has it open" : std::strerror(errno);
    }
    if (!why.empty()) {
        ::close(fd);
        if (!options_.persistent) ::rmdir(path.c_str());
        fail_dir(path, why);
    }
    path_ = path;
    return fd;
}

std::string SpillStore::path() const {
    std::shared_lock lk(dir_mu_);
    return dir_fd_ >= 0 ? path_ : std::string();
}

void SpillStore::disable(const std::string& what, int err) noexcept {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    enabled_.store(false, std::memory_order_relaxed);
    if (warned_.exchange(true)) return;
    std::string msg = "heapwise: cache spilling turned off: " + what + ": " + std::strerror(err) +
                      "; the cache keeps working in memory only\n";
    [[maybe_unused]] ssize_t n = ::write(2, msg.data(), msg.size());
}

int SpillStore::ensure_directory_locked() {
    if (closed_) return -1;
    if (dir_fd_ >= 0) return dir_fd_;
    try {
        dir_fd_ = open_directory();
    } catch (const CacheError& e) {
        disable(e.what(), EIO);
    }
    return dir_fd_;
}

std::size_t SpillStore::index_node_charge() noexcept {
    // libstdc++'s red-black node: colour and three links, then the stored pair.
    static const std::size_t charge = allocation_size(
        4 * sizeof(void*) + sizeof(std::pair<const std::uint64_t, IndexRec>), Allocator::system);
    return charge;
}

std::uint64_t SpillStore::file_size_for(std::size_t key_len, std::size_t value_len) noexcept {
    return sizeof(spill::FileHeader) + key_len + value_len;
}

std::optional<SpillStore::Written> SpillStore::write(std::uint64_t hash, std::string_view key,
                                                     std::span<const std::byte> value,
                                                     std::int64_t expiry_unix_ns) {
    if (!enabled()) return std::nullopt;
    std::shared_lock lk(dir_mu_);
    if (dir_fd_ < 0) {
        lk.unlock();
        {
            std::unique_lock x(dir_mu_);
            if (ensure_directory_locked() < 0) return std::nullopt;
        }
        lk.lock();
        if (dir_fd_ < 0) return std::nullopt;
    }
    spill::FileHeader h{};
    h.magic = spill::kMagic;
    h.version = spill::kVersion;
    h.key_len = static_cast<std::uint32_t>(key.size());
    h.value_len = value.size();
    h.seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    h.expiry_unix_ns = expiry_unix_ns;
    h.payload_crc = crc32c(value.data(), value.size(), crc32c(key.data(), key.size()));
    h.header_crc = crc32c(&h, spill::kHeaderCrcSpan);

    const std::string tmp = spill::file_name(hash, h.seq, true);
    const std::string final_name = spill::file_name(hash, h.seq);
    int fd = ::openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    if (fd < 0) {
        disable("cannot create a file in " + path_, errno);
        return std::nullopt;
    }
    bool ok = write_all(fd, &h, sizeof h) && write_all(fd, key.data(), key.size()) &&
              write_all(fd, value.data(), value.size());
    int err = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (ok && ::renameat(dir_fd_, tmp.c_str(), dir_fd_, final_name.c_str()) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        ::unlinkat(dir_fd_, tmp.c_str(), 0);
        disable("cannot write " + path_ + "/" + tmp, err);
        return std::nullopt;
    }
    return Written{h.seq, file_size_for(key.size(), value.size())};
}

ReadStatus SpillStore::read(std::uint64_t hash, std::uint64_t seq, std::string_view key,
                            std::size_t value_size, Allocator allocator, Bytes& out) {
    std::shared_lock lk(dir_mu_);
    if (dir_fd_ < 0) return ReadStatus::missing;
    spill::FileHeader h{};
    std::string stored_key;
    return read_file(dir_fd_, spill::file_name(hash, seq), seq, key, value_size, allocator, h,
                     stored_key, out);
}

void SpillStore::unlink_file(std::uint64_t hash, std::uint64_t seq) noexcept {
    std::shared_lock lk(dir_mu_);
    if (dir_fd_ >= 0) ::unlinkat(dir_fd_, spill::file_name(hash, seq).c_str(), 0);
}

void SpillStore::index_add(std::uint64_t seq, std::uint64_t hash, std::uint64_t file_size) {
    std::lock_guard lk(index_mu_);
    index_.emplace(seq, IndexRec{hash, file_size});
    disk_bytes_.fetch_add(file_size, std::memory_order_relaxed);
}

std::optional<std::uint64_t> SpillStore::index_remove(std::uint64_t seq) noexcept {
    std::lock_guard lk(index_mu_);
    auto it = index_.find(seq);
    if (it == index_.end()) return std::nullopt;
    std::uint64_t size = it->second.file_size;
    disk_bytes_.fetch_sub(size, std::memory_order_relaxed);
    index_.erase(it);
    return size;
}

std::optional<SpillStore::Oldest> SpillStore::pop_oldest_over(std::uint64_t cap) {
    std::lock_guard lk(index_mu_);
    if (disk_bytes_.load(std::memory_order_relaxed) <= cap || index_.empty()) return std::nullopt;
    auto it = index_.begin();
    Oldest o{it->first, it->second.hash, it->second.file_size};
    disk_bytes_.fetch_sub(o.file_size, std::memory_order_relaxed);
    index_.erase(it);
    return o;
}

std::vector<RecoveredFile> SpillStore::recover(std::int64_t now_unix_ns, std::uint64_t* bad,
                                              std::uint64_t* expired) {
    std::unique_lock lk(dir_mu_);
    std::vector<RecoveredFile> out;
    if (dir_fd_ < 0) return out;
    int dup_fd = ::fcntl(dir_fd_, F_DUPFD_CLOEXEC, 0);
    DIR* dir = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr;
    if (dir == nullptr) {
        if (dup_fd >= 0) ::close(dup_fd);
        return out;
    }
    std::vector<std::string> names;
    while (dirent* d = ::readdir(dir)) names.emplace_back(d->d_name);
    ::closedir(dir);

    std::unordered_map<std::string, RecoveredFile> newest;
    std::uint64_t max_seq = 0;
    auto drop = [&](const std::string& name, std::uint64_t* counter) {
        ::unlinkat(dir_fd_, name.c_str(), 0);
        ++*counter;
    };
    for (const std::string& name : names) {
        if (is_temporary_name(name)) {  // a write that never finished
            ::unlinkat(dir_fd_, name.c_str(), 0);
            continue;
        }
        auto parsed = spill::parse_name(name);
        if (!parsed) continue;  // not ours: left alone
        max_seq = std::max(max_seq, parsed->seq);
        spill::FileHeader h{};
        std::string key;
        Bytes value;
        if (read_file(dir_fd_, name, parsed->seq, std::nullopt, std::nullopt, Allocator::mimalloc,
                      h, key, value) != ReadStatus::ok ||
            hash_key(key) != parsed->hash) {
            drop(name, bad);
            continue;
        }
        if (h.expiry_unix_ns != 0 && h.expiry_unix_ns <= now_unix_ns) {
            drop(name, expired);
            continue;
        }
        RecoveredFile f{key, parsed->hash, parsed->seq, file_size_for(key.size(), value.size()),
                        value.size(), h.expiry_unix_ns};
        auto [it, fresh] = newest.try_emplace(key, f);
        if (!fresh) {  // two files of one key: a crash between writing and removing; keep newest
            RecoveredFile& old = it->second;
            RecoveredFile& loser = old.seq < f.seq ? old : f;
            ::unlinkat(dir_fd_, spill::file_name(loser.hash, loser.seq).c_str(), 0);
            if (old.seq < f.seq) old = f;
        }
    }
    next_seq_.store(max_seq + 1, std::memory_order_relaxed);
    out.reserve(newest.size());
    for (auto& [k, f] : newest) {
        {
            std::lock_guard ilk(index_mu_);
            index_.emplace(f.seq, IndexRec{f.hash, f.file_size});
            disk_bytes_.fetch_add(f.file_size, std::memory_order_relaxed);
        }
        out.push_back(std::move(f));
    }
    return out;
}

void SpillStore::remove_directory() noexcept {
    std::unique_lock lk(dir_mu_);
    {
        std::lock_guard ilk(index_mu_);
        index_.clear();
        disk_bytes_.store(0, std::memory_order_relaxed);
    }
    if (dir_fd_ < 0) return;
    int dup_fd = ::fcntl(dir_fd_, F_DUPFD_CLOEXEC, 0);
    if (DIR* dir = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr) {
        std::vector<std::string> names;
        while (dirent* d = ::readdir(dir)) names.emplace_back(d->d_name);
        ::closedir(dir);
        for (const std::string& n : names) {
            if (spill::parse_name(n) || is_temporary_name(n)) ::unlinkat(dir_fd_, n.c_str(), 0);
        }
    } else if (dup_fd >= 0) {
        ::close(dup_fd);
    }
    ::close(dir_fd_);
    dir_fd_ = -1;
    ::rmdir(path_.c_str());  // fails, harmlessly, if someone put foreign files in it
}

void SpillStore::close() noexcept {
    std::unique_lock lk(dir_mu_);
    closed_ = true;
    if (dir_fd_ >= 0) ::close(dir_fd_);
    dir_fd_ = -1;
}

}  // namespace heapwise::api
