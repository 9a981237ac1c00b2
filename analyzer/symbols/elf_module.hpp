// One module file opened for symbolization: its own libdwfl session with the file reported at
// bias 0, so lookups take ELF virtual addresses (the module offsets of ModuleMap). Checked
// against what the trace recorded before it is trusted; function symbols sorted once for
// binary search; DWARF (with inlined frames) used where the file or its debug file has it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/symbols/dwarf_index.hpp"
#include "analyzer/symbols/module_map.hpp"
#include "analyzer/symbols/symbolizer.hpp"

typedef struct Dwfl Dwfl;
typedef struct Dwfl_Module Dwfl_Module;

namespace heapwise::analyzer {

class ElfModule {
public:
    // Opens image.path and checks it against the recorded build-id and segments. On failure
    // returns null and sets problem to one line saying why (missing, not ELF, mismatch).
    static std::unique_ptr<ElfModule> open(const ModuleImage& image,
                                           const std::vector<std::string>& debug_roots,
                                           std::string& problem);
    ~ElfModule();
    ElfModule(const ElfModule&) = delete;
    ElfModule& operator=(const ElfModule&) = delete;

    // Fills out.source and out.frames for an ELF virtual address inside this module.
    void resolve(std::uint64_t vaddr, SymbolizedAddress& out);

    // Called by libdwfl (through a C callback) when the file has no DWARF of its own.
    int find_debuginfo(const char* file_name, const char* debuglink, std::uint32_t crc,
                       char** found_name);

private:
    ElfModule() = default;
    struct Symbol {
        std::uint64_t start = 0;
        std::uint64_t end = 0;      // exclusive
        std::uint64_t max_end = 0;  // max end over this and every earlier symbol
        const char* name = nullptr; // owned by the Dwfl session
        int rank = 0;               // lower wins among aliases: global, weak, then local
    };
    void load_symbols();
    const Symbol* symbol_at(std::uint64_t vaddr);
    bool resolve_dwarf(std::uint64_t vaddr, SymbolizedAddress& out);

    Dwfl* dwfl_ = nullptr;
    Dwfl_Module* module_ = nullptr;
    std::vector<std::string> debug_roots_;
    std::vector<Symbol> symbols_;
    DwarfIndex index_;
    bool symbols_loaded_ = false;
};

}  // namespace heapwise::analyzer
