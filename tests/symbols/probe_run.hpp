// Test support for the symbolizer tests: runs a probe program (probe_main.cpp) and parses what
// it printed (its module map, the return addresses of known functions with their __LINE__s, one
// allocation stack), runs objcopy to make stripped and split copies, and owns temp dirs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/symbols/module_map.hpp"

namespace heapwise::analyzer::test {

struct Probe {
    std::uint64_t address = 0;  // a return address inside the probed function
    int lines[3] = {0, 0, 0};   // innermost line, then the call lines it was inlined at
};

struct ProbeRun {
    std::vector<ModuleImage> modules;  // in dl_iterate_phdr order: the executable first
    std::map<std::string, Probe> probes;
    std::vector<std::uint64_t> grow_stack;  // backtrace() inside operator new, leaf first
    int grow_line = 0;                      // the push_back line that reallocated

    const ModuleImage& module(std::string_view basename) const;  // throws when absent
    const Probe& probe(const std::string& tag) const;
    // A map holding every module (keys 1..n in order); replace swaps one module's image.
    ModuleMap map() const;
};

// Runs exe with the probe library's path and parses its output; results are memoized per exe.
const ProbeRun& run_probe(const std::string& exe);

// Runs a program (no shell) and fails the test when it does not exit 0.
void run_checked(const std::vector<std::string>& argv);
// objcopy ARGS... (the binutils found at configure time).
void objcopy(const std::vector<std::string>& args);

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string operator/(std::string_view name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

std::string to_hex(std::string_view bytes);
std::string basename_of(std::string_view path);

}  // namespace heapwise::analyzer::test
