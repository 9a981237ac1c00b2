// Frame folding tests: the glob, the rule syntax, the default list on names of each family it
// is meant for, and a real allocation stack (vector growth → operator new, captured with
// backtrace() in probe_main.cpp) whose site must be the user's push_back line.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "analyzer/symbols/fold.hpp"
#include "probe_run.hpp"

using namespace heapwise::analyzer;
using namespace heapwise::analyzer::test;

namespace {

// The real grow stack, symbolized; with the frames kept alive by the symbolizer.
struct GrowStack {
    const ProbeRun& run = run_probe(HW_PROBE_PIE);
    ModuleMap map = run.map();
    Symbolizer symbolizer{map};
    std::vector<const SymbolizedAddress*> stack;
    GrowStack() {
        for (std::uint64_t a : run.grow_stack) stack.push_back(&symbolizer.symbolize(a));
    }
    const SourceFrame& at(FrameFolder::Site site) const { return stack.at(site.address)->frames.at(site.frame); }
};

}  // namespace

TEST_CASE("glob patterns: '*' is any run of characters, the rest is literal", "[symbols][fold]") {
    CHECK(glob_match("malloc", "malloc"));
    CHECK_FALSE(glob_match("malloc", "malloc_usable_size"));
    CHECK(glob_match("malloc*", "malloc_usable_size"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("PyMem_*", "PyMem_RawMalloc"));
    CHECK_FALSE(glob_match("PyMem_*", "_PyMem_RawMalloc"));
    CHECK(glob_match("_PyObject_*Malloc*", "_PyObject_GC_Malloc"));
    CHECK(glob_match("a*b*c", "aXXbYYbZc"));
    CHECK_FALSE(glob_match("a*b*c", "aXXbYYbZ"));
    CHECK(glob_match("libc.so*", "libc.so.6"));
    CHECK_FALSE(glob_match("?", "x"));  // '?' is literal
}

TEST_CASE("function patterns also match after a template's return type", "[symbols][fold]") {
    const char* realloc_insert =
        "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"
        "(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)";
    CHECK(function_matches("std::vector<*>::_M_realloc_insert*", realloc_insert));
    CHECK(function_matches("operator new*", "operator new(unsigned long)"));
    CHECK_FALSE(function_matches("new*", "operator new(unsigned long)"));
    // std:: inside a user template's arguments is not the function's own namespace.
    CHECK_FALSE(function_matches("std::*", "void app::store<std::__cxx11::basic_string<char, "
                                           "std::char_traits<char>, std::allocator<char> > >(int)"));
}

TEST_CASE("fold rules parse from text and print back", "[symbols][fold]") {
    CHECK(parse_fold_rule("module:libfoo.so*") == FoldRule{FoldTarget::kModule, "libfoo.so*"});
    CHECK(parse_fold_rule("function:my_alloc") == FoldRule{FoldTarget::kFunction, "my_alloc"});
    CHECK(parse_fold_rule("app::Pool::get*") == FoldRule{FoldTarget::kFunction, "app::Pool::get*"});
    CHECK(to_string(parse_fold_rule("module:libfoo.so*")) == "module:libfoo.so*");
    CHECK_THROWS_WITH(parse_fold_rule("file:x.cpp"),
                      "fold rule 'file:x.cpp': unknown kind, expected function:PATTERN or "
                      "module:PATTERN");
    CHECK_THROWS_AS(parse_fold_rule("module:"), std::invalid_argument);
    CHECK_THROWS_AS(parse_fold_rule(""), std::invalid_argument);
}

TEST_CASE("the default rules fold allocators and runtime wrappers, not user code",
          "[symbols][fold]") {
    FrameFolder folder;
    CHECK(folder.rules() == default_fold_rules());
    for (const char* fn : {"malloc", "calloc", "realloc", "posix_memalign", "__libc_malloc",
                           "operator new(unsigned long)", "operator new[](unsigned long)",
                           "operator new(unsigned long, std::align_val_t)",
                           "std::__new_allocator<int>::allocate(unsigned long, void const*)",
                           "__gnu_cxx::new_allocator<char>::allocate(unsigned long, void const*)",
                           "std::allocator<int>::allocate(unsigned long)",
                           "PyMem_RawMalloc", "PyMem_Malloc", "PyObject_Malloc",
                           "_PyObject_GC_Malloc", "_PyMem_RawMalloc"}) {
        INFO(fn);
        CHECK(folder.folds(fn, "app"));
    }
    for (const char* module : {"libheapwise_preload.so", "libc.so.6", "libstdc++.so.6",
                               "ld-linux-x86-64.so.2"}) {
        INFO(module);
        CHECK(folder.folds("", module));
        CHECK(folder.folds("some_function", module));
    }
    for (const char* fn : {"main", "app::Cache::put(int)", "PyList_Append", "mallocator",
                           "_PyEval_EvalFrameDefault", "strdup_user"}) {
        INFO(fn);
        CHECK_FALSE(folder.folds(fn, "app"));
    }
    CHECK_FALSE(folder.folds("", "python3.11"));
}

TEST_CASE("a real vector growth is attributed to the user's push_back line", "[symbols][fold]") {
    GrowStack grow;
    REQUIRE(grow.stack.size() >= 3);
    FrameFolder folder;
    FrameFolder::Site site = folder.site(grow.stack);
    CHECK(grow.at(site).function == "heapwise_probe::grow_vector(int)");
    CHECK(grow.at(site).line == static_cast<std::uint32_t>(grow.run.grow_line));
    CHECK(basename_of(grow.at(site).file) == "probe_main.cpp");
}

TEST_CASE("custom rules move the site: added and removed patterns", "[symbols][fold]") {
    GrowStack grow;
    FrameFolder folder({{FoldTarget::kFunction, "operator new*"},
                        {FoldTarget::kFunction, "std::*::allocate(*"},
                        {FoldTarget::kFunction, "std::_Vector_base<*"}});
    CHECK(grow.at(folder.site(grow.stack)).function.starts_with(
        "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>("));
    folder.add(parse_fold_rule("std::vector<*>::_M_realloc_insert<*"));
    folder.add(parse_fold_rule("std::vector<*>::_M_realloc_insert<*"));  // no duplicate
    CHECK(folder.rules().size() == 4);
    CHECK(grow.at(folder.site(grow.stack)).function ==
          "std::vector<int, std::allocator<int> >::push_back(int const&)");
    CHECK(folder.remove({FoldTarget::kFunction, "operator new*"}));
    CHECK_FALSE(folder.remove({FoldTarget::kFunction, "operator new*"}));
    CHECK(grow.at(folder.site(grow.stack)).function == "operator new(unsigned long)");

    // A module rule: everything in the executable folded leaves libc's frames, then the
    // outermost frame when all are folded.
    FrameFolder modules({{FoldTarget::kModule, "symbols_probe_pie"}});
    CHECK(grow.stack.at(modules.site(grow.stack).address)->module_name == "libc.so.6");
    modules.add({FoldTarget::kModule, "libc.so*"});
    FrameFolder::Site last = modules.site(grow.stack);
    CHECK(last.address == grow.stack.size() - 1);
}

TEST_CASE("frames without a name are folded by module rules only", "[symbols][fold]") {
    SymbolizedAddress unknown_user;
    unknown_user.source = SymbolSource::kUnusableModule;
    unknown_user.module_name = "app";
    SymbolizedAddress unknown_libc = unknown_user;
    unknown_libc.module_name = "libc.so.6";
    std::vector<const SymbolizedAddress*> stack{&unknown_libc, &unknown_user};
    FrameFolder::Site site = FrameFolder().site(stack);
    CHECK(site.address == 1);
    CHECK(site.frame == 0);
}
