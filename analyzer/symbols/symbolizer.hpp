// Offline symbolization of recorded return addresses: function (demangled), file, line, column
// and the chain of inlined frames, from the modules' files on disk (the traced process is gone)
// through elfutils libdwfl. A module whose file is missing or is not the file that was mapped
// (build-id or segments differ) is never named: it stays module+0xoffset, with one warning.
// Each distinct (module file, offset) is resolved once and cached; files are opened lazily.
// Not thread-safe: one Symbolizer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyzer/symbols/module_map.hpp"

namespace heapwise::analyzer {

// One logical frame at an address: a real function, or one inlined into the next frame.
struct SourceFrame {
    std::string function;  // demangled; never empty in a SymbolizedAddress's frames
    std::string file;      // source path as the debug info has it; empty when unknown
    std::uint32_t line = 0;    // 0 when unknown
    std::uint32_t column = 0;  // 0 when unknown
    bool inlined = false;      // this frame's code was inlined into the next (outer) frame
};

enum class SymbolSource : std::uint8_t {
    kDwarf,           // frames from DWARF (the module's file or its separate debug file)
    kSymbolTable,     // function name from .symtab or .dynsym; no file or line
    kNoSymbol,        // the module is the right file, but no symbol covers the offset
    kUnusableModule,  // file missing or unreadable, or build-id/segments differ: not named
    kNoModule,        // the address was in no known module at that generation
};
std::string_view to_string(SymbolSource source) noexcept;

struct SymbolizedAddress {
    SymbolSource source = SymbolSource::kNoModule;
    std::string module_path;    // empty for kNoModule
    std::string module_name;    // basename of module_path
    std::uint64_t offset = 0;   // looked-up ELF address in the module (return address - 1 - bias);
                                // for kNoModule, the looked-up absolute address
    std::vector<SourceFrame> frames;  // innermost first; empty unless kDwarf or kSymbolTable
};

// "ns::f(int) at /src/a.cpp:12:7", "malloc at ??:0", "libfoo.so+0x1a2b", "0x7f0012345678":
// frame i of the address (i is ignored when there are no frames).
std::string describe(const SymbolizedAddress& address, std::size_t frame = 0);

struct SymbolizerOptions {
    // Roots searched for separate debug files: ROOT/.build-id/xx/rest.debug, then
    // ROOT/<dir of the module>/<debuglink>. The module's own dir and dir/.debug come first for
    // a debuglink. Configurable so tests (and sysroots) can point elsewhere.
    std::vector<std::string> debug_roots{"/usr/lib/debug"};
};

struct SymbolWarning {
    std::string module_path;
    std::string message;  // one line: "<path>: <why it is not symbolized>"
};

struct SymbolizerStats {
    std::uint64_t lookups = 0;    // calls to symbolize
    std::uint64_t resolved = 0;   // distinct addresses resolved (cache misses)
    std::uint64_t files_opened = 0;
};

class ElfModule;  // one opened module file (elf_module.hpp)

class Symbolizer {
public:
    // map must outlive the symbolizer; it may grow (modules added or removed) meanwhile.
    explicit Symbolizer(const ModuleMap& map, SymbolizerOptions options = {});
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    // A return address recorded at generation gen (address - 1 is looked up, so the call
    // instruction's line is reported). The reference stays valid as long as the symbolizer.
    const SymbolizedAddress& symbolize(std::uint64_t return_address, MapGeneration gen);
    const SymbolizedAddress& symbolize(std::uint64_t return_address) {
        return symbolize(return_address, map_.generation());
    }
    // An exact instruction address (a signal frame, a sampled pc): nothing subtracted.
    const SymbolizedAddress& symbolize_pc(std::uint64_t pc, MapGeneration gen);

    // One warning per module file that could not be used, in the order they were met.
    const std::vector<SymbolWarning>& warnings() const noexcept { return warnings_; }
    SymbolizerStats stats() const noexcept { return stats_; }
    const SymbolizerOptions& options() const noexcept { return options_; }

private:
    struct FileSlot {
        std::unique_ptr<ElfModule> elf;  // null when unusable
        std::string path;
        std::string name;
        std::unordered_map<std::uint64_t, SymbolizedAddress> by_offset;
    };
    FileSlot& slot_for(ModuleIndex index);

    const ModuleMap& map_;
    SymbolizerOptions options_;
    std::unordered_map<std::string, std::unique_ptr<FileSlot>> files_;  // by path + build-id
    std::vector<FileSlot*> slot_of_module_;  // by ModuleIndex; null until first use
    std::unordered_map<std::uint64_t, SymbolizedAddress> outside_;  // kNoModule, by address
    std::vector<SymbolWarning> warnings_;
    SymbolizerStats stats_;
};

}  // namespace heapwise::analyzer
