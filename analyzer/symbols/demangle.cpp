// demangle(): abi::__cxa_demangle returns a malloc'd buffer or a status; names that are not
// mangled, or that the demangler rejects, pass through untouched rather than failing.
#include "analyzer/symbols/demangle.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace heapwise::analyzer {

std::string demangle(std::string_view name) {
    if (name.size() < 3 || name.substr(0, 2) != "_Z") return std::string(name);
    const std::string mangled(name);  // the ABI wants a terminated string
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
    if (status != 0 || !out) return mangled;
    return std::string(out.get());
}

std::string symbol_function_name(std::string_view symbol) {
    std::string name = demangle(symbol);
    if (name.size() != symbol.size() || name != symbol) {
        // Demangled: the clone suffixes are " [clone .xyz]" groups at the end.
        while (name.ends_with("]")) {
            auto open = name.rfind(" [clone .");
            if (open == std::string::npos) break;
            name.erase(open);
        }
        return name;
    }
    // A C name: "f.cold", "f.isra.0", "f.part.1", "f.constprop.0", "f.lto_priv.0".
    for (std::string_view suffix : {".cold", ".isra.", ".part.", ".constprop.", ".lto_priv.",
                                    ".localalias"}) {
        auto at = name.find(suffix);
        if (at != std::string::npos && at > 0) name.erase(at);
    }
    return name;
}

}  // namespace heapwise::analyzer
