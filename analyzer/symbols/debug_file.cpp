// Separate debug file search (see debug_file.hpp). Written here rather than taken from
// dwfl_standard_find_debuginfo because that one also queries debuginfod servers when
// DEBUGINFOD_URLS is set (Debian sets it in /etc/profile.d), which would hang an offline run.
#include "analyzer/symbols/debug_file.hpp"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace heapwise::analyzer {
namespace {

std::string hex(std::span<const unsigned char> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

std::string dir_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    if (slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

std::string join(const std::string& a, std::string_view b) {
    if (!a.empty() && a.back() == '/') return a + std::string(b);
    return a + "/" + std::string(b);
}

std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

}  // namespace

std::string read_build_id(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string out;
    elf_version(EV_CURRENT);
    if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
        const void* bits = nullptr;
        ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
        if (n > 0) out.assign(static_cast<const char*>(bits), static_cast<std::size_t>(n));
        elf_end(elf);
    }
    ::close(fd);
    return out;
}

bool file_crc32(const std::string& path, std::uint32_t& crc) {
    static const std::array<std::uint32_t, 256> kTable = make_crc_table();
    std::FILE* f = std::fopen(path.c_str(), "rbe");
    if (!f) return false;
    std::uint32_t c = 0xFFFFFFFFu;
    std::array<unsigned char, 1 << 16> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
        for (std::size_t i = 0; i < n; ++i) c = kTable[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    }
    bool ok = !std::ferror(f);
    std::fclose(f);
    crc = c ^ 0xFFFFFFFFu;
    return ok;
}

std::vector<std::string> debug_file_candidates(const DebugFileQuery& query,
                                               const std::vector<std::string>& roots) {
    std::vector<std::string> out;
    if (query.build_id.size() >= 2) {
        std::string id = hex(query.build_id);
        for (const std::string& root : roots) {
            out.push_back(join(root, ".build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug"));
        }
    }
    if (!query.debuglink.empty()) {
        const std::string dir = dir_of(query.module_path);
        out.push_back(join(dir, query.debuglink));
        out.push_back(join(join(dir, ".debug"), query.debuglink));
        for (const std::string& root : roots) out.push_back(join(root + dir, query.debuglink));
    }
    return out;
}

std::string find_debug_file(const DebugFileQuery& query, const std::vector<std::string>& roots) {
    for (const std::string& candidate : debug_file_candidates(query, roots)) {
        if (candidate == query.module_path) continue;  // a debuglink naming the file itself
        if (::access(candidate.c_str(), R_OK) != 0) continue;
        if (!query.build_id.empty()) {
            std::string id = read_build_id(candidate);
            if (id.size() == query.build_id.size() &&
                std::equal(id.begin(), id.end(), query.build_id.begin(),
                           [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; })) {
                return candidate;
            }
            continue;
        }
        std::uint32_t crc = 0;
        if (!query.debuglink.empty() && file_crc32(candidate, crc) && crc == query.debuglink_crc) {
            return candidate;
        }
    }
    return {};
}

}  // namespace heapwise::analyzer
