// SpillStore: the cache's private spill directory. Creates it safely (0700, owned by us, no
// symlinks), writes one file per entry through a temporary name and rename, reads and validates
// files, keeps the age-ordered index the disk cap evicts from, re-indexes a persistent directory
// and turns spilling off (one stderr warning) at the first write error. Never takes a shard lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "heapwise/bytes.hpp"

namespace heapwise::api {

struct SpillOptions {
    std::string parent;  // already defaulted ($TMPDIR or /tmp)
    std::string name;    // persistent directory name
    bool persistent = false;
    std::uint64_t max_disk = 0;
};

enum class ReadStatus { ok, missing, corrupt };

// One valid file found when reopening a persistent directory.
struct RecoveredFile {
    std::string key;
    std::uint64_t hash;
    std::uint64_t seq;
    std::uint64_t file_size;
    std::uint64_t value_size;
    std::int64_t expiry_unix_ns;
};

class SpillStore {
public:
    // Throws CacheError(spill_dir) when the directory cannot be created or is unsafe.
    explicit SpillStore(SpillOptions options);
    ~SpillStore();
    SpillStore(const SpillStore&) = delete;
    SpillStore& operator=(const SpillStore&) = delete;

    bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }
    std::string path() const;
    std::uint64_t max_disk() const noexcept { return options_.max_disk; }
    std::uint64_t disk_bytes() const noexcept { return disk_bytes_.load(std::memory_order_relaxed); }
    std::uint64_t write_errors() const noexcept { return write_errors_.load(std::memory_order_relaxed); }

    struct Written {
        std::uint64_t seq;
        std::uint64_t file_size;
    };
    // Writes a new file; the caller indexes it (index_add) once its entry points at it, so the
    // disk cap never sees a file whose entry is still being settled. nullopt when spilling is off.
    std::optional<Written> write(std::uint64_t hash, std::string_view key,
                                 std::span<const std::byte> value, std::int64_t expiry_unix_ns);
    ReadStatus read(std::uint64_t hash, std::uint64_t seq, std::string_view key,
                    std::size_t value_size, Allocator allocator, Bytes& out);
    void unlink_file(std::uint64_t hash, std::uint64_t seq) noexcept;
    static std::uint64_t file_size_for(std::size_t key_len, std::size_t value_len) noexcept;
    // Memory the index below spends per file (one std::map node from the system allocator,
    // at its usable size); the cache charges it to each on-disk entry.
    static std::size_t index_node_charge() noexcept;

    // The index, oldest (lowest seq) first. remove returns the file's size if it was indexed.
    void index_add(std::uint64_t seq, std::uint64_t hash, std::uint64_t file_size);
    std::optional<std::uint64_t> index_remove(std::uint64_t seq) noexcept;
    struct Oldest {
        std::uint64_t seq;
        std::uint64_t hash;
        std::uint64_t file_size;
    };
    // Pops the oldest file while the store holds more than `cap` bytes.
    std::optional<Oldest> pop_oldest_over(std::uint64_t cap);

    // Persistent reopen: every valid file (deduplicated by key, newest kept), after removing
    // temporaries, damaged files (counted in *bad) and expired ones (counted in *expired).
    std::vector<RecoveredFile> recover(std::int64_t now_unix_ns, std::uint64_t* bad,
                                       std::uint64_t* expired);

    // Removes every spill file and the directory; a later write creates a fresh one.
    void remove_directory() noexcept;
    // Keeps the files (persistent caches at destruction) and stops all further writes.
    void close() noexcept;

private:
    int open_directory();  // creates or reopens the directory; returns its fd, throws CacheError
    void disable(const std::string& what, int err) noexcept;
    int ensure_directory_locked();  // under dir_mu_ exclusive; -1 when it cannot

    SpillOptions options_;
    mutable std::shared_mutex dir_mu_;  // shared: file I/O; exclusive: create/remove the directory
    int dir_fd_ = -1;
    std::string path_;
    bool closed_ = false;
    std::atomic<bool> enabled_{true};
    std::atomic<bool> warned_{false};
    std::atomic<std::uint64_t> next_seq_{1};
    std::atomic<std::uint64_t> disk_bytes_{0};
    std::atomic<std::uint64_t> write_errors_{0};

    struct IndexRec {
        std::uint64_t hash;
        std::uint64_t file_size;
    };
    std::mutex index_mu_;
    std::map<std::uint64_t, IndexRec> index_;
};

}  // namespace heapwise::api
