// Time to symbolize 10,000 distinct frames, from a cold Symbolizer each iteration (files opened,
// symbol tables sorted, DWARF indexed: all included), over three kinds of module: a stripped
// Debian binary with only .dynsym (/usr/bin/python3.11), a binary with its own DWARF (this
// benchmark, built -g), and libc.so.6 with DWARF in a separate file found by build-id (when
// libc6-dbg is installed). Plus the cost of a frame already in the cache.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "analyzer/symbols/debug_file.hpp"
#include "analyzer/symbols/symbolizer.hpp"

using namespace heapwise::analyzer;

namespace {

constexpr int kFrames = 10'000;

// A module image read from the file itself, mapped at bias 0, and kFrames distinct return
// addresses spread evenly over its executable segment.
struct Target {
    ModuleImage image;
    std::vector<std::uint64_t> addresses;
    bool ok = false;
};

Target make_target(const std::string& path) {
    Target t;
    t.image.path = path;
    t.image.build_id = read_build_id(path);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return t;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    std::size_t phnum = 0;
    std::uint64_t text_lo = 0, text_hi = 0;
    if (elf && elf_getphdrnum(elf, &phnum) == 0) {
        for (std::size_t i = 0; i < phnum; ++i) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, static_cast<int>(i), &ph) || ph.p_type != PT_LOAD) continue;
            t.image.segments.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset,
                                        static_cast<std::uint8_t>(ph.p_flags)});
            if ((ph.p_flags & PF_X) && ph.p_memsz > text_hi - text_lo) {
                text_lo = ph.p_vaddr;
                text_hi = ph.p_vaddr + ph.p_memsz;
            }
        }
    }
    if (elf) elf_end(elf);
    ::close(fd);
    if (text_hi - text_lo < 2 * kFrames) return t;
    const std::uint64_t step = (text_hi - text_lo) / kFrames;
    for (int i = 0; i < kFrames; ++i) t.addresses.push_back(text_lo + i * step + 1);
    t.ok = true;
    return t;
}

std::string self_path() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string libc_path() {
    std::string out;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            if (info->dlpi_name && std::strstr(info->dlpi_name, "/libc.so.6")) {
                *static_cast<std::string*>(data) = info->dlpi_name;
            }
            return 0;
        },
        &out);
    return out;
}

void symbolize_cold(benchmark::State& state, const std::string& path) {
    Target target = make_target(path);
    if (!target.ok) {
        state.SkipWithError(("no usable module at " + path).c_str());
        return;
    }
    ModuleMap map;
    map.add(1, target.image);
    std::uint64_t named = 0, dwarf = 0, frames = 0;
    for (auto _ : state) {
        Symbolizer symbolizer(map);
        named = dwarf = frames = 0;
        for (std::uint64_t a : target.addresses) {
            const SymbolizedAddress& s = symbolizer.symbolize(a);
            named += !s.frames.empty();
            dwarf += s.source == SymbolSource::kDwarf;
            frames += s.frames.size();
        }
        benchmark::DoNotOptimize(named);
        if (!symbolizer.warnings().empty()) state.SkipWithError(symbolizer.warnings()[0].message.c_str());
    }
    state.SetItemsProcessed(state.iterations() * kFrames);
    state.counters["named"] = static_cast<double>(named);
    state.counters["dwarf"] = static_cast<double>(dwarf);
    state.counters["logical_frames"] = static_cast<double>(frames);
}

void BM_Symbolize10k_Python311_dynsym(benchmark::State& state) {
    symbolize_cold(state, "/usr/bin/python3.11");
}
void BM_Symbolize10k_SelfDwarf(benchmark::State& state) { symbolize_cold(state, self_path()); }
void BM_Symbolize10k_LibcDebugFile(benchmark::State& state) { symbolize_cold(state, libc_path()); }

void BM_SymbolizeCachedFrame(benchmark::State& state) {
    Target target = make_target(self_path());
    ModuleMap map;
    map.add(1, target.image);
    Symbolizer symbolizer(map);
    for (std::uint64_t a : target.addresses) symbolizer.symbolize(a);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(&symbolizer.symbolize(target.addresses[i]));
        if (++i == target.addresses.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Symbolize10k_Python311_dynsym)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Symbolize10k_SelfDwarf)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Symbolize10k_LibcDebugFile)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SymbolizeCachedFrame);
