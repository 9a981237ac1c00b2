// read_chunks(): a file read through one buffer of a fixed size, with posix_fadvise telling the
// kernel the access is sequential and that pages behind the read position will not be needed,
// so streaming a file larger than memory does not push the rest of the system out of RAM.
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heapwise/stream.hpp"

namespace heapwise {

namespace {

// Page-cache drops are batched: one fadvise call per this many bytes read, not per chunk.
constexpr std::uint64_t kDropEvery = std::uint64_t{2} << 20;
constexpr std::uint64_t kFolioMax = std::uint64_t{2} << 20;

[[noreturn]] void fail(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), "heapwise::read_chunks: " + what);
}

}  // namespace

ChunkReader::ChunkReader(const std::filesystem::path& path, std::size_t size)
    : size_(size), path_(path.string()) {
    if (size == 0) throw std::invalid_argument("heapwise::read_chunks: chunk size must be at least 1 byte");
    do fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail(errno, "cannot open '" + path_ + "'");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        int err = errno;
        close();
        fail(err, "cannot stat '" + path_ + "'");
    }
    if (S_ISDIR(st.st_mode)) {
        close();
        fail(EISDIR, "'" + path_ + "' is a directory");
    }
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    buf_ = std::make_unique_for_overwrite<std::byte[]>(size_);
}

ChunkReader::~ChunkReader() { close(); }

ChunkReader::ChunkReader(ChunkReader&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      buf_(std::move(o.buf_)),
      size_(o.size_),
      len_(std::exchange(o.len_, 0)),
      offset_(o.offset_),
      dropped_(o.dropped_),
      started_(o.started_),
      path_(std::move(o.path_)) {}

ChunkReader& ChunkReader::operator=(ChunkReader&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        buf_ = std::move(o.buf_);
        size_ = o.size_;
        len_ = std::exchange(o.len_, 0);
        offset_ = o.offset_;
        dropped_ = o.dropped_;
        started_ = o.started_;
        path_ = std::move(o.path_);
    }
    return *this;
}

void ChunkReader::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

ChunkReader::iterator ChunkReader::begin() {
    if (!started_) {
        started_ = true;
        next();
    }
    return iterator(this);
}

void ChunkReader::next() {
    len_ = 0;
    if (fd_ < 0) return;
    // Fill the whole buffer (short reads happen on pipes and at signal interruptions) so every
    // chunk but the last has exactly the requested size.
    while (len_ < size_) {
        ssize_t r = ::read(fd_, buf_.get() + len_, size_ - len_);
        if (r < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            close();
            fail(err, "read from '" + path_ + "' failed at byte " + std::to_string(offset_ + len_));
        }
        if (r == 0) break;
        len_ += static_cast<std::size_t>(r);
    }
    offset_ += len_;
    // Drop pages behind the read position. fadvise only evicts page-cache folios that lie wholly
    // inside the range, and the page cache uses folios of up to 2 MiB (PMD size) on current
    // kernels, so each range starts at the 2 MiB boundary at or below the last one's end: a
    // folio that straddled it is covered in full next time. At the end the whole file goes.
    const bool eof = len_ < size_;
    if (eof) {
        if (offset_ > 0) ::posix_fadvise(fd_, 0, static_cast<off_t>(offset_), POSIX_FADV_DONTNEED);
        dropped_ = offset_;
    } else if (offset_ - dropped_ >= kDropEvery) {
        const std::uint64_t start = dropped_ & ~(kFolioMax - 1);
        ::posix_fadvise(fd_, static_cast<off_t>(start), static_cast<off_t>(offset_ - start),
                        POSIX_FADV_DONTNEED);
        dropped_ = offset_;
    }
    if (eof) close();
}

ChunkReader read_chunks(const std::filesystem::path& path, std::size_t size) {
    return ChunkReader(path, size);
}

}  // namespace heapwise
