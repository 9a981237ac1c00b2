// read_chunks over real files in a temp dir (exact bytes, one bounded buffer, pages dropped from
// the page cache behind the reader, clear errors) and chunked over several kinds of range.
#include <catch2/catch.hpp>

#include <list>
#include <ranges>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heapwise/stream.hpp"
#include "temp_dir.hpp"

namespace {

std::byte pattern(std::size_t i) { return static_cast<std::byte>((i * 31 + 7) % 251); }

std::string write_file(const std::filesystem::path& p, std::size_t size) {
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = pattern(i);
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), size) == static_cast<ssize_t>(size));
    REQUIRE(::fdatasync(fd) == 0);  // clean pages: the kernel may drop them when told to
    ::close(fd);
    return p.string();
}

// Pages of the file now in the page cache (mincore over a read-only mapping).
std::size_t resident_pages(const std::string& path, std::size_t size) {
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    REQUIRE(m != MAP_FAILED);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> vec((size + page - 1) / page);
    REQUIRE(::mincore(m, size, vec.data()) == 0);
    ::munmap(m, size);
    std::size_t n = 0;
    for (unsigned char c : vec) n += c & 1;
    return n;
}

}  // namespace

TEST_CASE("read_chunks yields the file's exact bytes through one fixed buffer", "[monitor]") {
    hwtest::TempDir tmp;
    const std::size_t size = (3u << 20) + 123;
    auto path = write_file(tmp.path() / "big.csv", size);
    auto reader = heapwise::read_chunks(path, 64 << 10);
    std::size_t offset = 0, chunks = 0;
    const std::byte* buffer = nullptr;
    bool all_equal = true;
    for (std::span<const std::byte> chunk : reader) {
        if (!buffer) buffer = chunk.data();
        CHECK(chunk.data() == buffer);  // one buffer reused: memory stays bounded
        CHECK(chunk.size() == (chunks < 48 ? std::size_t{64 << 10} : std::size_t{123}));
        for (std::size_t i = 0; i < chunk.size(); ++i) all_equal &= chunk[i] == pattern(offset + i);
        offset += chunk.size();
        ++chunks;
    }
    CHECK(all_equal);
    CHECK(offset == size);
    CHECK(chunks == 49);
    CHECK(reader.bytes_read() == size);
    CHECK(reader.buffer_size() == 64u << 10);
    CHECK(reader.bytes_dropped() == size);
}

TEST_CASE("read_chunks leaves the file out of the page cache behind it", "[monitor]") {
    hwtest::TempDir tmp;
    const std::size_t size = 8u << 20;
    auto path = write_file(tmp.path() / "data.bin", size);
    const std::size_t pages = size / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    {  // a plain read caches the whole file
        int fd = ::open(path.c_str(), O_RDONLY);
        std::vector<char> buf(1 << 20);
        while (::read(fd, buf.data(), buf.size()) > 0) {
        }
        ::close(fd);
    }
    REQUIRE(resident_pages(path, size) == pages);
    {  // part way: what lies behind the reader has left the page cache already
        auto reader = heapwise::read_chunks(path, 1 << 20);
        std::size_t seen = 0;
        for (auto chunk : reader) {
            seen += chunk.size();
            if (seen == (6u << 20)) break;
        }
        CHECK(reader.bytes_dropped() == 6u << 20);
        CHECK(resident_pages(path, size) <= pages / 4);  // at most the 2 MiB not yet read
    }
    std::size_t total = 0;
    for (auto chunk : heapwise::read_chunks(path, 1 << 20)) total += chunk.size();
    CHECK(total == size);
    CHECK(resident_pages(path, size) == 0);
}

TEST_CASE("read_chunks: small, empty and exactly divisible files", "[monitor]") {
    hwtest::TempDir tmp;
    auto empty = write_file(tmp.path() / "empty", 0);
    std::size_t n = 0;
    for (auto c : heapwise::read_chunks(empty, 10)) n += 1 + c.size();
    CHECK(n == 0);
    auto four = write_file(tmp.path() / "four", 4096);
    std::vector<std::size_t> sizes;
    for (auto c : heapwise::read_chunks(four, 1024)) sizes.push_back(c.size());
    CHECK(sizes == std::vector<std::size_t>{1024, 1024, 1024, 1024});
    sizes.clear();
    for (auto c : heapwise::read_chunks(four, 1 << 20)) sizes.push_back(c.size());
    CHECK(sizes == std::vector<std::size_t>{4096});
}

TEST_CASE("read_chunks errors are clear exceptions", "[monitor]") {
    hwtest::TempDir tmp;
    auto missing = (tmp.path() / "nope.csv").string();
    CHECK_THROWS_WITH(heapwise::read_chunks(missing, 4096),
                      Catch::Contains("cannot open '" + missing + "'") &&
                          Catch::Contains("No such file or directory"));
    CHECK_THROWS_AS(heapwise::read_chunks(missing, 4096), std::system_error);
    CHECK_THROWS_WITH(heapwise::read_chunks(tmp.path(), 4096), Catch::Contains("is a directory"));
    auto file = write_file(tmp.path() / "f", 10);
    CHECK_THROWS_WITH(heapwise::read_chunks(file + "/x", 4096), Catch::Contains("Not a directory"));
    CHECK_THROWS_AS(heapwise::read_chunks(file, 0), std::invalid_argument);
    CHECK_THROWS_WITH(heapwise::read_chunks(file, 0), Catch::Contains("chunk size must be at least 1"));
}

namespace {

// A single-pass, unsized range like a generator: each element is produced on demand.
class Countdown {
public:
    explicit Countdown(int from) : left_(from) {}
    class iterator {
    public:
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(Countdown* c) : c_(c) {}
        int operator*() const { return c_->left_; }
        iterator& operator++() {
            --c_->left_;
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(std::default_sentinel_t) const { return c_->left_ <= 0; }

    private:
        Countdown* c_ = nullptr;
    };
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

private:
    int left_;
};

template <class R>
std::vector<std::vector<int>> collect(R&& batches) {
    std::vector<std::vector<int>> out;
    for (const auto& b : batches) out.emplace_back(b.begin(), b.end());
    return out;
}

}  // namespace

TEST_CASE("chunked batches vectors, lists, generators and unsized views", "[monitor]") {
    using V = std::vector<std::vector<int>>;
    std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(collect(heapwise::chunked(v, 3)) == V{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}});
    CHECK(collect(heapwise::chunked(v, 10)) == V{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
    CHECK(collect(heapwise::chunked(v, 100)) == V{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
    std::list<int> l{1, 2, 3, 4};
    CHECK(collect(heapwise::chunked(l, 2)) == V{{1, 2}, {3, 4}});
    static_assert(!std::ranges::sized_range<Countdown>);
    static_assert(!std::ranges::forward_range<Countdown>);
    Countdown gen(5);
    CHECK(collect(heapwise::chunked(gen, 2)) == V{{5, 4}, {3, 2}, {1}});
    auto unsized = std::views::iota(1) | std::views::take_while([](int i) { return i <= 7; });
    CHECK(collect(heapwise::chunked(unsized, 3)) == V{{1, 2, 3}, {4, 5, 6}, {7}});
    CHECK(collect(heapwise::chunked(std::vector<int>{4, 5, 6}, 2)) == V{{4, 5}, {6}});  // owned
    CHECK(collect(heapwise::chunked(std::vector<int>{}, 2)).empty());
}

TEST_CASE("chunked refuses a batch size of 0", "[monitor]") {
    std::vector<int> v{1, 2};
    CHECK_THROWS_AS(heapwise::chunked(v, 0), std::invalid_argument);
    CHECK_THROWS_WITH(heapwise::chunked(v, 0), Catch::Contains("batch size must be at least 1"));
}
