// dl_iterate_phdr walks the loader's own list (no /proc parsing, no file access). The main
// program has an empty name there: its path comes from /proc/self/exe. The vDSO and other
// objects without a file are skipped: nothing on disk could symbolize them.
#include "process_modules.hpp"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

namespace heapwise::api {
namespace {

std::string self_exe() {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The GNU build-id note among the object's PT_NOTE segments, read from memory.
std::string build_id(const dl_phdr_info& info) {
    for (int i = 0; i < info.dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info.dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        const auto* p = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);
        std::size_t left = ph.p_memsz;
        while (left >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) nh;
            std::memcpy(&nh, p, sizeof nh);
            const std::size_t name_sz = (nh.n_namesz + 3u) & ~std::size_t{3};
            const std::size_t desc_sz = (nh.n_descsz + 3u) & ~std::size_t{3};
            const std::size_t total = sizeof nh + name_sz + desc_sz;
            if (total > left) break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                std::memcmp(p + sizeof nh, "GNU", 4) == 0) {
                return std::string(reinterpret_cast<const char*>(p + sizeof nh + name_sz), nh.n_descsz);
            }
            p += total;
            left -= total;
        }
    }
    return {};
}

int collect(dl_phdr_info* info, std::size_t, void* out) {
    auto& images = *static_cast<std::vector<analyzer::ModuleImage>*>(out);
    analyzer::ModuleImage image;
    const bool main_program = images.empty() && (info->dlpi_name == nullptr || info->dlpi_name[0] == 0);
    if (main_program) {
        image.path = self_exe();
    } else if (info->dlpi_name != nullptr && info->dlpi_name[0] == '/') {
        // The file itself, as the tracer records it: the loader keeps the name it was asked
        // for, often a symlink (libffi.so.8 -> libffi.so.8.1.2), and module keys use the name.
        std::error_code ec;
        const auto real = std::filesystem::canonical(info->dlpi_name, ec);
        image.path = ec ? std::string(info->dlpi_name) : real.string();
    } else {
        return 0;  // the vDSO, or an object the loader names without a path
    }
    image.load_bias = info->dlpi_addr;
    image.build_id = build_id(*info);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        image.segments.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset,
                                  static_cast<std::uint8_t>(ph.p_flags)});
    }
    if (!image.path.empty() && !image.segments.empty()) images.push_back(std::move(image));
    return 0;
}

}  // namespace

std::vector<analyzer::ModuleImage> loaded_modules() {
    std::vector<analyzer::ModuleImage> images;
    dl_iterate_phdr(collect, &images);
    return images;
}

std::size_t ProcessModules::refresh() {
    std::size_t changes = 0;
    std::set<std::pair<std::string, std::uint64_t>> present;
    for (analyzer::ModuleImage& image : loaded_modules()) {
        auto id = std::make_pair(image.path, image.load_bias);
        present.insert(id);
        if (keys_.contains(id)) continue;
        const std::uint64_t key = next_key_++;
        keys_.emplace(std::move(id), key);
        map_.add(key, std::move(image));
        ++changes;
    }
    for (auto it = keys_.begin(); it != keys_.end();) {
        if (present.contains(it->first)) {
            ++it;
            continue;
        }
        map_.remove(it->second);
        it = keys_.erase(it);
        ++changes;
    }
    return changes;
}

}  // namespace heapwise::api
