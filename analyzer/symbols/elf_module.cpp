// ElfModule: a module file behind its own libdwfl session. The file is reported with
// dwfl_report_elf at base 0 (add_p_vaddr), so libdwfl's addresses are the ELF's own virtual
// addresses for PIE, non-PIE and shared objects alike. Symbols without a size are never used:
// the nearest preceding symbol of a stripped binary is usually the wrong function.
#include "analyzer/symbols/elf_module.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "analyzer/symbols/debug_file.hpp"
#include "analyzer/symbols/demangle.hpp"

namespace heapwise::analyzer {
namespace {

int find_elf_none(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) { return -1; }

int find_debuginfo_cb(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr,
                      const char* file_name, const char* debuglink, GElf_Word crc,
                      char** found_name) {
    auto* self = static_cast<ElfModule*>(*userdata);
    return self ? self->find_debuginfo(file_name, debuglink, crc, found_name) : -1;
}

const Dwfl_Callbacks kCallbacks = {
    find_elf_none, find_debuginfo_cb, dwfl_offline_section_address, nullptr,
};

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out.empty() ? "none" : out;
}

// The demangled linkage name of a function DIE, or its plain DW_AT_name (C functions, and C++
// functions with internal linkage, which GCC emits without a linkage name); linkage says which.
std::string die_name(Dwarf_Die* die, bool& linkage) {
    Dwarf_Attribute attr;
    const char* name = nullptr;
    // _integrate follows DW_AT_abstract_origin and DW_AT_specification, where C++ definitions
    // and inlined instances keep their names.
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) {
        name = dwarf_formstring(&attr);
    }
    linkage = name != nullptr;
    if (name) return demangle(name);
    if (dwarf_attr_integrate(die, DW_AT_name, &attr)) name = dwarf_formstring(&attr);
    return name ? name : "";
}

// An absolute, lexically normal path: DWARF keeps paths relative to the compile directory.
std::string with_comp_dir(Dwarf_Die* cu, const char* file) {
    if (!file) return {};
    std::filesystem::path path(file);
    if (path.is_relative()) {
        Dwarf_Attribute attr;
        if (const char* dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr))) {
            path = std::filesystem::path(dir) / path;
        }
    }
    return path.lexically_normal().string();
}

std::uint32_t attr_u32(Dwarf_Die* die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    if (dwarf_formudata(dwarf_attr(die, name, &attr), &value) != 0) return 0;
    return static_cast<std::uint32_t>(value);
}

}  // namespace

std::unique_ptr<ElfModule> ElfModule::open(const ModuleImage& image,
                                           const std::vector<std::string>& debug_roots,
                                           std::string& problem) {
    struct stat st;
    if (image.path.empty() || image.path[0] != '/') {
        problem = "not a file on disk (the vDSO, or an unnamed mapping)";
        return nullptr;
    }
    if (::stat(image.path.c_str(), &st) != 0) {
        problem = "file not found";
        return nullptr;
    }
    std::unique_ptr<ElfModule> self(new ElfModule());
    self->debug_roots_ = debug_roots;
    self->dwfl_ = dwfl_begin(&kCallbacks);
    if (!self->dwfl_) {
        problem = std::string("libdwfl: ") + dwfl_errmsg(-1);
        return nullptr;
    }
    dwfl_report_begin(self->dwfl_);
    self->module_ = dwfl_report_elf(self->dwfl_, image.path.c_str(), image.path.c_str(), -1, 0,
                                    /*add_p_vaddr=*/true);
    dwfl_report_end(self->dwfl_, nullptr, nullptr);
    if (!self->module_) {
        problem = std::string("not a readable ELF file (") + dwfl_errmsg(-1) + ")";
        return nullptr;
    }
    void** userdata = nullptr;
    dwfl_module_info(self->module_, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr,
                     nullptr);
    *userdata = self.get();

    const unsigned char* bits = nullptr;
    GElf_Addr note_vaddr = 0;
    int n = dwfl_module_build_id(self->module_, &bits, &note_vaddr);
    std::string file_id = n > 0 ? std::string(reinterpret_cast<const char*>(bits),
                                              static_cast<std::size_t>(n))
                                : std::string();
    if (!image.build_id.empty() && file_id != image.build_id) {
        problem = "build-id " + hex(file_id) + " differs from the recorded " + hex(image.build_id);
        return nullptr;
    }

    // Segments: the same program headers, or it is not the file that was mapped (this also
    // guards files that carry no build-id).
    GElf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(self->module_, &bias);
    std::size_t phnum = 0;
    if (!elf || elf_getphdrnum(elf, &phnum) != 0) {
        problem = "cannot read program headers";
        return nullptr;
    }
    for (const LoadSegment& seg : image.segments) {
        bool found = false;
        for (std::size_t i = 0; i < phnum && !found; ++i) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, static_cast<int>(i), &ph) || ph.p_type != PT_LOAD) continue;
            found = ph.p_vaddr == seg.vaddr && ph.p_memsz == seg.memsz && ph.p_offset == seg.offset;
        }
        if (!found) {
            problem = "no PT_LOAD segment at vaddr 0x" + [&] {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(seg.vaddr));
                return std::string(buf);
            }() + " as recorded: not the file that was mapped";
            return nullptr;
        }
    }
    return self;
}

ElfModule::~ElfModule() {
    if (dwfl_) dwfl_end(dwfl_);
}

int ElfModule::find_debuginfo(const char* file_name, const char* debuglink, std::uint32_t crc,
                              char** found_name) {
    const unsigned char* bits = nullptr;
    GElf_Addr note_vaddr = 0;
    int n = dwfl_module_build_id(module_, &bits, &note_vaddr);
    DebugFileQuery query;
    query.module_path = file_name ? file_name : "";
    if (n > 0) query.build_id = {bits, static_cast<std::size_t>(n)};
    query.debuglink = debuglink ? debuglink : "";
    query.debuglink_crc = crc;
    std::string path = find_debug_file(query, debug_roots_);
    if (path.empty()) return -1;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) *found_name = ::strdup(path.c_str());  // libdwfl frees it
    return fd;
}

void ElfModule::load_symbols() {
    symbols_loaded_ = true;
    int count = dwfl_module_getsymtab(module_);
    for (int i = 1; i < count; ++i) {
        GElf_Sym sym;
        GElf_Addr addr = 0;
        GElf_Word shndx = 0;
        const char* name =
            dwfl_module_getsym_info(module_, i, &sym, &addr, &shndx, nullptr, nullptr);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !*name || sym.st_size == 0 || shndx == SHN_UNDEF) continue;
        if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
        int bind = GELF_ST_BIND(sym.st_info);
        int rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
        symbols_.push_back(Symbol{addr, addr + sym.st_size, 0, name, rank});
    }
    // Aliases (malloc and __libc_malloc) share an address: the best-ranked, then the name with
    // fewer leading underscores, then the shorter, so the choice never depends on table order.
    auto underscores = [](const char* s) { return std::strspn(s, "_"); };
    std::sort(symbols_.begin(), symbols_.end(), [&](const Symbol& a, const Symbol& b) {
        if (a.start != b.start) return a.start < b.start;
        if (a.rank != b.rank) return a.rank < b.rank;
        if (underscores(a.name) != underscores(b.name)) return underscores(a.name) < underscores(b.name);
        return std::strcmp(a.name, b.name) < 0;
    });
    std::uint64_t max_end = 0;
    for (Symbol& s : symbols_) {
        max_end = std::max(max_end, s.end);
        s.max_end = max_end;
    }
}

const ElfModule::Symbol* ElfModule::symbol_at(std::uint64_t vaddr) {
    if (!symbols_loaded_) load_symbols();
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                               [](std::uint64_t a, const Symbol& s) { return a < s.start; });
    const Symbol* best = nullptr;
    while (it != symbols_.begin()) {
        --it;
        if (it->max_end <= vaddr) break;  // nothing at or before this one reaches vaddr
        // The innermost (latest-starting) symbol holding vaddr; among aliases the earliest in
        // sort order, which is the best-ranked, is met last walking backwards.
        if (best && it->start < best->start) break;
        if (vaddr < it->end) best = &*it;
    }
    return best;
}

bool ElfModule::resolve_dwarf(std::uint64_t vaddr, SymbolizedAddress& out) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(module_, vaddr, &bias);
    if (!cu) return false;

    SourceFrame where;  // the location inside the innermost frame, then each call site
    if (Dwfl_Line* line = dwfl_module_getsrc(module_, vaddr)) {
        Dwarf_Addr line_addr = 0;
        int lineno = 0;
        int column = 0;
        const char* file = dwfl_lineinfo(line, &line_addr, &lineno, &column, nullptr, nullptr);
        if (file) {
            where.file = with_comp_dir(cu, file);
            where.line = static_cast<std::uint32_t>(lineno > 0 ? lineno : 0);
            where.column = static_cast<std::uint32_t>(column > 0 ? column : 0);
        }
    }

    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    bool have_files = false;
    for (const DwarfIndex::Node* node : index_.chain(cu, vaddr - bias)) {
        Dwarf_Die die = node->die;
        SourceFrame frame = where;
        bool linkage = false;
        frame.function = die_name(&die, linkage);
        frame.inlined = node->inlined;
        if (!frame.inlined) {
            // The real function: its symbol is the same function and, unlike a DW_AT_name,
            // qualified ("(anonymous namespace)::f(int)"), as a stripped copy would show it.
            if (!linkage) {
                if (const Symbol* sym = symbol_at(vaddr)) frame.function = symbol_function_name(sym->name);
            }
            if (!frame.function.empty()) out.frames.push_back(std::move(frame));
            break;
        }
        if (frame.function.empty()) frame.function = "??";
        out.frames.push_back(std::move(frame));
        // The next (outer) frame is where this one was inlined.
        if (!have_files) have_files = dwarf_getsrcfiles(cu, &files, &nfiles) == 0;
        std::uint32_t file_index = attr_u32(&die, DW_AT_call_file);
        where.file = have_files && file_index < nfiles
                         ? with_comp_dir(cu, dwarf_filesrc(files, file_index, nullptr, nullptr))
                         : std::string();
        where.line = attr_u32(&die, DW_AT_call_line);
        where.column = attr_u32(&die, DW_AT_call_column);
    }

    if (out.frames.empty() || out.frames.back().inlined) {
        // No enclosing subprogram in DWARF (assembly, or a CU without it): the symbol table
        // names the function; the line table may still give its line.
        const Symbol* sym = symbol_at(vaddr);
        if (!sym) {
            if (out.frames.empty()) return false;
            where.function = "??";
        } else {
            where.function = symbol_function_name(sym->name);
        }
        where.inlined = false;
        out.frames.push_back(std::move(where));
    }
    out.source = SymbolSource::kDwarf;
    return true;
}

void ElfModule::resolve(std::uint64_t vaddr, SymbolizedAddress& out) {
    out.frames.clear();
    if (resolve_dwarf(vaddr, out)) return;
    out.frames.clear();
    if (const Symbol* sym = symbol_at(vaddr)) {
        SourceFrame frame;
        frame.function = symbol_function_name(sym->name);
        out.frames.push_back(std::move(frame));
        out.source = SymbolSource::kSymbolTable;
        return;
    }
    out.source = SymbolSource::kNoSymbol;
}

}  // namespace heapwise::analyzer
