// ModuleMap (see modules.hpp): parses /proc/self/maps, and for each newly mapped ELF file reads
// its program headers (PT_LOAD segments, the GNU build-id note) with pread. Writer thread only.
#include "modules.hpp"

#include <elf.h>

#include <cstring>

#include "sys.hpp"

namespace heapwise::preload {
namespace {

bool hex(const char*& p, std::uint64_t& v) noexcept {
    v = 0;
    const char* s = p;
    for (;; ++p) {
        const char c = *p;
        if (c >= '0' && c <= '9') v = v * 16 + static_cast<std::uint64_t>(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + static_cast<std::uint64_t>(c - 'a' + 10);
        else break;
    }
    return p != s;
}

void skip_spaces(const char*& p) noexcept {
    while (*p == ' ' || *p == '\t') ++p;
}

struct ElfInfo {
    std::uint64_t first_vaddr = 0;  // page-aligned vaddr of the PT_LOAD at file offset 0
    SegmentRecord segments[16];
    std::size_t nseg = 0;
    std::uint8_t build_id[64];
    std::size_t build_id_size = 0;
};

bool read_elf(const char* path, ElfInfo& out) noexcept {
    const int fd = sys::open_read(path);
    if (fd < 0) return false;
    Elf64_Ehdr eh;
    bool ok = sys::pread_at(fd, &eh, sizeof(eh), 0) == static_cast<long>(sizeof(eh)) &&
              std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
              eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum <= 64;
    Elf64_Phdr ph[64];
    if (ok) {
        const std::size_t n = eh.e_phnum * sizeof(Elf64_Phdr);
        ok = sys::pread_at(fd, ph, n, eh.e_phoff) == static_cast<long>(n);
    }
    bool have_first = false;
    for (std::size_t i = 0; ok && i < eh.e_phnum; ++i) {
        const Elf64_Phdr& p = ph[i];
        if (p.p_type == PT_LOAD) {
            if (!have_first) {
                out.first_vaddr = (p.p_vaddr - p.p_offset) & ~std::uint64_t{0xfff};
                have_first = true;
            }
            if (out.nseg < 16) {
                out.segments[out.nseg++] = SegmentRecord{p.p_vaddr, p.p_memsz, p.p_offset,
                                                         static_cast<std::uint8_t>(p.p_flags & 7)};
            }
        } else if (p.p_type == PT_NOTE && out.build_id_size == 0 && p.p_filesz <= 4096) {
            std::uint8_t notes[4096];
            if (sys::pread_at(fd, notes, p.p_filesz, p.p_offset) != static_cast<long>(p.p_filesz)) continue;
            std::size_t off = 0;
            while (off + sizeof(Elf64_Nhdr) <= p.p_filesz) {
                Elf64_Nhdr nh;
                std::memcpy(&nh, notes + off, sizeof(nh));
                off += sizeof(nh);
                const std::size_t name_at = off;
                off += (nh.n_namesz + 3) & ~3u;
                const std::size_t desc_at = off;
                off += (nh.n_descsz + 3) & ~3u;
                if (off > p.p_filesz) break;
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                    std::memcmp(notes + name_at, "GNU", 4) == 0 && nh.n_descsz <= sizeof(out.build_id)) {
                    std::memcpy(out.build_id, notes + desc_at, nh.n_descsz);
                    out.build_id_size = nh.n_descsz;
                    break;
                }
            }
        }
    }
    sys::close_fd(fd);
    return ok && have_first;
}

}  // namespace

bool ModuleMap::init() noexcept {
    destroy();
    maps_cap_ = 1u << 20;
    maps_ = static_cast<char*>(sys::map_pages(maps_cap_));
    modules_ = static_cast<Module*>(sys::map_pages(kMaxModules * sizeof(Module)));
    ranges_ = static_cast<Range*>(sys::map_pages(kMaxRanges * sizeof(Range)));
    count_ = 0;
    nranges_ = 0;
    next_id_ = 1;
    return maps_ != nullptr && modules_ != nullptr && ranges_ != nullptr;
}

void ModuleMap::destroy() noexcept {
    sys::unmap_pages(maps_, maps_cap_);
    sys::unmap_pages(modules_, kMaxModules * sizeof(Module));
    sys::unmap_pages(ranges_, kMaxRanges * sizeof(Range));
    maps_ = nullptr;
    modules_ = nullptr;
    ranges_ = nullptr;
}

bool ModuleMap::covers(std::uintptr_t addr) const noexcept {
    std::uint32_t lo = 0, hi = nranges_;
    while (lo < hi) {
        const std::uint32_t mid = (lo + hi) / 2;
        if (addr < ranges_[mid].start) hi = mid;
        else if (addr >= ranges_[mid].end) lo = mid + 1;
        else return true;
    }
    return false;
}

void ModuleMap::add_module(BlockEncoder& enc, std::uint64_t t, const char* path, std::uint64_t base,
                           std::uint64_t inode, std::uint64_t dev) noexcept {
    for (std::uint32_t i = 0; i < count_; ++i) {
        Module& m = modules_[i];
        if (m.base == base && m.inode == inode && m.dev == dev && std::strcmp(m.path, path) == 0) {
            m.seen = true;
            return;
        }
    }
    ElfInfo elf;
    if (count_ >= kMaxModules || !read_elf(path, elf)) return;
    Module& m = modules_[count_++];
    m.id = next_id_++;
    m.bias = base - elf.first_vaddr;
    m.base = base;
    m.inode = inode;
    m.dev = dev;
    m.seen = true;
    std::strncpy(m.path, path, sizeof(m.path) - 1);
    m.path[sizeof(m.path) - 1] = '\0';
    enc.module_load(t, m.id, m.bias, m.path, std::span(elf.build_id, elf.build_id_size),
                    std::span(elf.segments, elf.nseg));
}

bool ModuleMap::rescan(BlockEncoder& enc, std::uint64_t t) noexcept {
    if (maps_ == nullptr) return false;
    long n = sys::read_file("/proc/self/maps", maps_, maps_cap_ - 1);
    while (n >= static_cast<long>(maps_cap_ - 1)) {
        void* bigger = sys::remap_pages(maps_, maps_cap_, maps_cap_ * 2);
        if (bigger == nullptr) break;
        maps_ = static_cast<char*>(bigger);
        maps_cap_ *= 2;
        n = sys::read_file("/proc/self/maps", maps_, maps_cap_ - 1);
    }
    if (n <= 0) return false;
    maps_[n] = '\0';
    for (std::uint32_t i = 0; i < count_; ++i) modules_[i].seen = false;
    nranges_ = 0;
    // Each line: start-end perms offset dev:dev inode path
    for (char* line = maps_; *line != '\0';) {
        char* eol = std::strchr(line, '\n');
        if (eol != nullptr) *eol = '\0';
        const char* p = line;
        std::uint64_t start = 0, end = 0, offset = 0, major = 0, minor = 0, inode = 0;
        bool ok = hex(p, start) && *p++ == '-' && hex(p, end);
        char perms[5] = {};
        if (ok) {
            skip_spaces(p);
            for (int i = 0; i < 4 && *p != '\0'; ++i) perms[i] = *p++;
            skip_spaces(p);
            ok = hex(p, offset);
            skip_spaces(p);
            ok = ok && hex(p, major) && *p++ == ':' && hex(p, minor);
            skip_spaces(p);
            while (*p >= '0' && *p <= '9') inode = inode * 10 + static_cast<std::uint64_t>(*p++ - '0');
            skip_spaces(p);
        }
        if (ok && perms[2] == 'x' && nranges_ < kMaxRanges) ranges_[nranges_++] = Range{start, end};
        if (ok && *p == '/' && offset == 0 && inode != 0) {
            add_module(enc, t, p, start, inode, (major << 20) | minor);
        }
        if (eol == nullptr) break;
        line = eol + 1;
    }
    for (std::uint32_t i = 0; i < count_;) {
        if (modules_[i].seen) {
            ++i;
            continue;
        }
        enc.module_unload(t, modules_[i].id);
        modules_[i] = modules_[--count_];
    }
    return true;
}

}  // namespace heapwise::preload
