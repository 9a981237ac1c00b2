// Frame folding: frames inside the allocator and the runtime's wrappers (malloc and friends,
// operator new, the standard library's allocators and container growth helpers, CPython's
// PyMem_*/PyObject_Malloc, the tracer's own shim) are folded, so an allocation site is the first
// frame, from the leaf, that a user would fix. The rules are visible (default_fold_rules(),
// docs/symbols.md) and configurable: glob patterns ('*' = any run of characters) over the
// demangled function name or the module's file name.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/symbols/symbolizer.hpp"

namespace heapwise::analyzer {

enum class FoldTarget : std::uint8_t {
    kFunction,  // the demangled name, e.g. "operator new(unsigned long)"
    kModule,    // the module's file name (basename), e.g. "libc.so.6"
};

struct FoldRule {
    FoldTarget target = FoldTarget::kFunction;
    std::string pattern;
    friend bool operator==(const FoldRule&, const FoldRule&) = default;
};

// Text form, for command lines and configuration: "function:PATTERN" or "module:PATTERN";
// a bare PATTERN is a function pattern. Throws std::invalid_argument (one line) on an empty
// pattern or an unknown prefix.
FoldRule parse_fold_rule(std::string_view text);
std::string to_string(const FoldRule& rule);

// The rules a FrameFolder starts with.
std::vector<FoldRule> default_fold_rules();

// '*' matches any run of characters (also none); every other character matches itself.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

// A function pattern matches the whole demangled name, or the name after a leading return type
// ("void std::vector<int>::_M_realloc_insert<int>(...)" is also tried as "std::vector<...").
bool function_matches(std::string_view pattern, std::string_view function) noexcept;

class FrameFolder {
public:
    FrameFolder() : rules_(default_fold_rules()) {}
    explicit FrameFolder(std::vector<FoldRule> rules) : rules_(std::move(rules)) {}

    void add(FoldRule rule);            // no effect if already present
    bool remove(const FoldRule& rule);  // false when it was not there
    const std::vector<FoldRule>& rules() const noexcept { return rules_; }

    // Whether a logical frame (function name may be empty when unknown) is folded.
    bool folds(std::string_view function, std::string_view module_name) const noexcept;

    // Where a stack's allocation site is: the first logical frame, from the leaf, that is not
    // folded. stack holds the symbolized return addresses leaf first; each may hold several
    // logical frames (inlined ones first), or none (module+offset, which only module rules fold).
    // When every frame is folded, the outermost frame is the site: the nearest to user code.
    struct Site {
        std::size_t address = 0;  // index into stack
        std::size_t frame = 0;    // index into stack[address]->frames (0 when it has none)
    };
    Site site(std::span<const SymbolizedAddress* const> stack) const noexcept;

private:
    std::vector<FoldRule> rules_;
};

}  // namespace heapwise::analyzer
