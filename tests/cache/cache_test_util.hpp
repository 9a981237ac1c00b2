// Helpers shared by the cache tests: a real temporary directory, a settable clock, stderr
// capture and small file utilities. No mocks: tests run the real cache on real files.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "heapwise/cache.hpp"

namespace cachetest {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "hw-cache-test.XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    std::string str() const { return path_.string(); }

private:
    fs::path path_;
};

// A clock tests move by hand.
struct FakeClock {
    std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(1);
    heapwise::CacheClock fn() const {
        auto p = ns;
        return [p] {
            return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(p->load()));
        };
    }
    void advance(std::chrono::nanoseconds d) const { ns->fetch_add(d.count()); }
};

// Redirects fd 2 to a file for its lifetime; text() returns what was written.
class StderrCapture {
public:
    StderrCapture() {
        path_ = (fs::temp_directory_path() / ("hw-stderr-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(counter()++)))
                    .string();
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        saved_ = ::dup(2);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~StderrCapture() {
        restore();
        ::unlink(path_.c_str());
    }
    void restore() {
        if (saved_ < 0) return;
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::string text() const {
        std::ifstream in(path_);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::string path_;
    int saved_ = -1;
};

inline std::size_t count_occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

inline std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

inline void flip_byte(const fs::path& file, std::uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
}

inline std::string value_of(std::size_t n, char seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 7));
    return s;
}

inline constexpr std::size_t kSpillHeader = 48;  // spill file header bytes (docs/api-cache.md)

}  // namespace cachetest
