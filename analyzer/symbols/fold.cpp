// FrameFolder and its default rules. The defaults fold whole modules that are all allocator or
// runtime (libc, the dynamic loader, libstdc++, other allocators, the heapwise shim), the C and
// C++ allocation entry points wherever they are linked, everything in namespace std (only its
// allocators and wrappers sit between an allocation and user code), and CPython's allocators.
#include "analyzer/symbols/fold.hpp"

#include <algorithm>
#include <stdexcept>

namespace heapwise::analyzer {

std::vector<FoldRule> default_fold_rules() {
    std::vector<FoldRule> rules;
    auto fn = [&](const char* p) { rules.push_back({FoldTarget::kFunction, p}); };
    auto mod = [&](const char* p) { rules.push_back({FoldTarget::kModule, p}); };
    // The C allocator, and glibc's internal names for it (seen with libc6-dbg installed).
    for (const char* name : {"malloc", "calloc", "realloc", "reallocarray", "free",
                             "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
                             "__libc_*", "__GI___libc_*", "_int_malloc", "_int_realloc",
                             "_int_memalign", "_mid_memalign", "sysmalloc", "tcache_*"}) {
        fn(name);
    }
    // C++: operator new in every form, and the standard library's allocators, allocator_traits,
    // container growth helpers (vector::_M_realloc_insert, _M_default_append, string::_M_create,
    // _Rb_tree::_M_create_node, _Hashtable::_M_rehash ...) and smart-pointer makers.
    fn("operator new*");
    fn("std::*");
    fn("__gnu_cxx::*");
    // CPython's allocator API and its object allocators.
    for (const char* name : {"PyMem_*", "_PyMem_*", "PyObject_Malloc", "PyObject_Calloc",
                             "PyObject_Realloc", "_PyObject_*Malloc*", "_PyObject_*Calloc*",
                             "_PyObject_*Realloc*", "_PyObject_New*", "_PyObject_GC_New*",
                             "PyType_GenericAlloc", "_PyType_AllocNoTrack"}) {
        fn(name);
    }
    // Modules that are allocator or runtime through and through.
    for (const char* name : {"libheapwise_preload.so*", "libc.so*", "ld-linux*.so*",
                             "libstdc++.so*", "libgcc_s.so*", "libmimalloc.so*",
                             "libjemalloc.so*", "libtcmalloc*.so*"}) {
        mod(name);
    }
    return rules;
}

FoldRule parse_fold_rule(std::string_view text) {
    FoldRule rule;
    if (text.starts_with("function:")) {
        text.remove_prefix(9);
    } else if (text.starts_with("module:")) {
        rule.target = FoldTarget::kModule;
        text.remove_prefix(7);
    } else if (auto colon = text.find(':');
               colon != std::string_view::npos && colon > 0 &&
               text.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == colon &&
               text.substr(colon, 2) != "::") {
        throw std::invalid_argument("fold rule '" + std::string(text) +
                                    "': unknown kind, expected function:PATTERN or module:PATTERN");
    }
    if (text.empty()) throw std::invalid_argument("fold rule: empty pattern");
    rule.pattern = std::string(text);
    return rule;
}

std::string to_string(const FoldRule& rule) {
    return (rule.target == FoldTarget::kModule ? "module:" : "function:") + rule.pattern;
}

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
    // Greedy with one backtrack point: linear in practice, no recursion.
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool function_matches(std::string_view pattern, std::string_view function) noexcept {
    if (glob_match(pattern, function)) return true;
    // Function templates demangle with their return type first. Try the text after each space
    // outside <>, () and []; "operator new" keeps its space.
    int depth = 0;
    for (std::size_t i = 0; i < function.size(); ++i) {
        char c = function[i];
        if (c == '<' || c == '(' || c == '[') ++depth;
        if (c == '>' || c == ')' || c == ']') --depth;
        if (c != ' ' || depth != 0) continue;
        if (function.substr(0, i).ends_with("operator")) continue;
        if (glob_match(pattern, function.substr(i + 1))) return true;
    }
    return false;
}

void FrameFolder::add(FoldRule rule) {
    if (std::find(rules_.begin(), rules_.end(), rule) == rules_.end()) {
        rules_.push_back(std::move(rule));
    }
}

bool FrameFolder::remove(const FoldRule& rule) {
    auto it = std::find(rules_.begin(), rules_.end(), rule);
    if (it == rules_.end()) return false;
    rules_.erase(it);
    return true;
}

bool FrameFolder::folds(std::string_view function, std::string_view module_name) const noexcept {
    for (const FoldRule& rule : rules_) {
        if (rule.target == FoldTarget::kModule) {
            if (!module_name.empty() && glob_match(rule.pattern, module_name)) return true;
        } else if (!function.empty() && function_matches(rule.pattern, function)) {
            return true;
        }
    }
    return false;
}

FrameFolder::Site FrameFolder::site(std::span<const SymbolizedAddress* const> stack) const noexcept {
    Site last;
    for (std::size_t a = 0; a < stack.size(); ++a) {
        const SymbolizedAddress& address = *stack[a];
        if (address.frames.empty()) {
            if (!folds({}, address.module_name)) return Site{a, 0};
            last = Site{a, 0};
            continue;
        }
        for (std::size_t f = 0; f < address.frames.size(); ++f) {
            if (!folds(address.frames[f].function, address.module_name)) return Site{a, f};
            last = Site{a, f};
        }
    }
    return last;
}

}  // namespace heapwise::analyzer
