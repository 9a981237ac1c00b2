// The symbolizer tests' program, built twice (PIE and -no-pie): it dlopens libhw_symprobe.so
// (argv[1]), runs known functions that report return addresses from known lines, captures one
// whole allocation stack (vector growth → operator new) with backtrace(), and prints its
// module map as dl_iterate_phdr sees it. Output lines, tab-separated:
//   module <load bias> <build-id hex> <path> <vaddr:memsz:offset:flags,...>
//   probe <tag> <address> <line0> <line1> <line2>     stack <tag> <address,...>
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "probe_sink.hpp"

namespace {

void print_record(const char* tag, const void* address, int line0, int line1, int line2) {
    std::printf("probe\t%s\t%p\t%d\t%d\t%d\n", tag, address, line0, line1, line2);
}
const ProbeSink kSink{print_record};

[[gnu::noinline]] void probe_capture(const ProbeSink* sink, const char* tag, int line0,
                                     int line1, int line2) {
    sink->record(tag, __builtin_return_address(0), line0, line1, line2);
    asm volatile("" ::: "memory");
}

// The allocation stack of one vector growth, taken inside operator new.
bool g_capture_stack = false;
void* g_stack[64];
int g_depth = 0;

}  // namespace

void* operator new(std::size_t size) {
    if (g_capture_stack) {
        g_capture_stack = false;
        g_depth = backtrace(g_stack, 64);
    }
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace heapwise_probe {

template <typename T>
struct Widget {
    [[gnu::noinline]] static void run(const ProbeSink* sink, T) { HW_PROBE(sink, "exe_template", 0, 0); }
};

[[gnu::always_inline]] inline void level2(const ProbeSink* sink, int line1, int line2) {
    HW_PROBE(sink, "exe_inline", line1, line2);
}

[[gnu::always_inline]] inline void level1(const ProbeSink* sink, int line2) {
    level2(sink, __LINE__, line2);
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] void inline_host(const ProbeSink* sink) {
    level1(sink, __LINE__);
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] int grow_vector(int n) {
    std::vector<int> values;
    int grow_line = 0;
    for (int i = 0; i < n; ++i) {
        g_capture_stack = i == 2;  // the third push_back reallocates (capacity 2 → 4)
        grow_line = __LINE__ + 1;
        values.push_back(i);
        asm volatile("" ::: "memory");
    }
    std::printf("grow_line\t%d\n", grow_line);
    return static_cast<int>(values.size());
}

}  // namespace heapwise_probe

extern "C" [[gnu::noinline]] void hw_probe_c_function(const ProbeSink* sink) {
    HW_PROBE(sink, "exe_c_function", 0, 0);
}

namespace {

std::string_view hex_of(const unsigned char* p, std::size_t n, char* buf) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
        buf[2 * i] = kDigits[p[i] >> 4];
        buf[2 * i + 1] = kDigits[p[i] & 15];
    }
    return {buf, 2 * n};
}

int print_module(dl_phdr_info* info, std::size_t, void*) {
    char path[4096];
    const char* name = info->dlpi_name;
    if (!name || !*name) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
        name = path;
    }
    char id[256] = "-";
    std::size_t id_len = 1;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
        auto* end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const unsigned char* nm = p + sizeof(ElfW(Nhdr));
            const unsigned char* desc = nm + ((note->n_namesz + 3) & ~3u);
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
                std::memcmp(nm, "GNU", 4) == 0 && note->n_descsz <= 64) {
                id_len = hex_of(desc, note->n_descsz, id).size();
            }
            p = desc + ((note->n_descsz + 3) & ~3u);
        }
    }
    std::printf("module\t%lx\t%.*s\t%s\t", static_cast<unsigned long>(info->dlpi_addr),
                static_cast<int>(id_len), id, name);
    bool first = true;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        std::printf("%s%lx:%lx:%lx:%x", first ? "" : ",", static_cast<unsigned long>(ph.p_vaddr),
                    static_cast<unsigned long>(ph.p_memsz),
                    static_cast<unsigned long>(ph.p_offset), static_cast<unsigned>(ph.p_flags));
        first = false;
    }
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    auto run = reinterpret_cast<void (*)(const ProbeSink*)>(dlsym(lib, "hw_symprobe_lib_run"));
    if (!run) return 1;
    heapwise_probe::Widget<unsigned short>::run(&kSink, 7);
    heapwise_probe::inline_host(&kSink);
    hw_probe_c_function(&kSink);
    run(&kSink);
    heapwise_probe::grow_vector(5);
    std::printf("stack\tgrow\t");
    for (int i = 0; i < g_depth; ++i) std::printf("%s%p", i ? "," : "", g_stack[i]);
    std::printf("\n");
    dl_iterate_phdr(print_module, nullptr);
    return 0;
}
