// C++ symbol demangling for the symbolizer, through the ABI library (abi::__cxa_demangle), so
// names read the way the user wrote them: "ns::Box<int>::fill(unsigned int)".
#pragma once

#include <string>
#include <string_view>

namespace heapwise::analyzer {

// The demangled form of an Itanium-mangled name ("_Z..."), clone suffixes included
// ("f() [clone .cold]"); any other name (C functions, garbage) is returned unchanged.
std::string demangle(std::string_view name);

// The function a symbol-table entry names: demangled, without the suffixes GCC gives the parts
// and copies it makes of a function ("f() [clone .isra.0]", "g.cold", "h.constprop.0"), so a
// function reads the same with or without DWARF.
std::string symbol_function_name(std::string_view symbol);

}  // namespace heapwise::analyzer
