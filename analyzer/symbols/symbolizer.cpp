// Symbolizer: address → module (ModuleMap, at the stack's generation) → the module's file slot
// (shared by every load of the same path and build-id) → per-offset cache → ElfModule. A file
// that cannot be trusted gets one warning and answers module+offset for all its addresses.
#include "analyzer/symbols/symbolizer.hpp"

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "analyzer/symbols/elf_module.hpp"

namespace heapwise::analyzer {
namespace {

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hex_number(std::uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, value);
    return buf;
}

}  // namespace

std::string_view to_string(SymbolSource source) noexcept {
    switch (source) {
        case SymbolSource::kDwarf: return "dwarf";
        case SymbolSource::kSymbolTable: return "symbol-table";
        case SymbolSource::kNoSymbol: return "no-symbol";
        case SymbolSource::kUnusableModule: return "unusable-module";
        case SymbolSource::kNoModule: return "no-module";
    }
    return "?";
}

std::string describe(const SymbolizedAddress& address, std::size_t frame) {
    if (address.frames.empty()) {
        if (address.source == SymbolSource::kNoModule) return hex_number(address.offset);
        return address.module_name + "+" + hex_number(address.offset);
    }
    const SourceFrame& f = address.frames.at(frame < address.frames.size() ? frame : 0);
    std::string out = f.function + " at ";
    if (f.file.empty() || f.line == 0) return out + "??:0";
    out += f.file + ":" + std::to_string(f.line);
    if (f.column != 0) out += ":" + std::to_string(f.column);
    return out;
}

Symbolizer::Symbolizer(const ModuleMap& map, SymbolizerOptions options)
    : map_(map), options_(std::move(options)) {}

Symbolizer::~Symbolizer() = default;

Symbolizer::FileSlot& Symbolizer::slot_for(ModuleIndex index) {
    auto raw = static_cast<std::size_t>(index);
    if (slot_of_module_.size() <= raw) slot_of_module_.resize(map_.size(), nullptr);
    if (FileSlot* slot = slot_of_module_[raw]) return *slot;

    const ModuleImage& image = map_.image(index);
    std::string key = image.path;
    key += '\0';
    key += image.build_id;
    auto [it, inserted] = files_.try_emplace(std::move(key));
    if (inserted) {
        it->second = std::make_unique<FileSlot>();
        FileSlot& slot = *it->second;
        slot.path = image.path;
        slot.name = basename_of(image.path);
        std::string problem;
        slot.elf = ElfModule::open(image, options_.debug_roots, problem);
        ++stats_.files_opened;
        if (!slot.elf) {
            warnings_.push_back(SymbolWarning{
                image.path, (image.path.empty() ? std::string("(unnamed module)") : image.path) +
                                ": " + problem + "; its frames are shown as " + slot.name +
                                "+offset"});
        }
    }
    slot_of_module_[raw] = it->second.get();
    return *it->second;
}

const SymbolizedAddress& Symbolizer::symbolize(std::uint64_t return_address, MapGeneration gen) {
    // A return address points after the call; the call itself is one byte back.
    return symbolize_pc(return_address == 0 ? 0 : return_address - 1, gen);
}

const SymbolizedAddress& Symbolizer::symbolize_pc(std::uint64_t pc, MapGeneration gen) {
    ++stats_.lookups;
    std::optional<ModuleAddress> found = map_.find(pc, gen);
    if (!found) {
        auto [it, inserted] = outside_.try_emplace(pc);
        if (inserted) {
            ++stats_.resolved;
            it->second.source = SymbolSource::kNoModule;
            it->second.offset = pc;
        }
        return it->second;
    }
    FileSlot& slot = slot_for(found->module);
    auto [it, inserted] = slot.by_offset.try_emplace(found->offset);
    if (!inserted) return it->second;
    ++stats_.resolved;
    SymbolizedAddress& out = it->second;
    out.module_path = slot.path;
    out.module_name = slot.name;
    out.offset = found->offset;
    if (slot.elf) {
        slot.elf->resolve(found->offset, out);
    } else {
        out.source = SymbolSource::kUnusableModule;
    }
    return out;
}

}  // namespace heapwise::analyzer
