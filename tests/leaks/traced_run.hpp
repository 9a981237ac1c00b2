// Runs a test program under the real shim (LD_PRELOAD=HW_LEAKS_PRELOAD) or under heaptrack, in a
// real temp dir, and finds what the tests need around it: the trace file, the program's own
// stdout, and the lines of its source marked "LEAK-SITE:NAME".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "analyzer/replay/grouping.hpp"

namespace heapwise::test {

struct TracedRun {
    std::filesystem::path trace;
    std::string out;  // the program's stdout
};

// Runs program under libheapwise_preload.so (from $HW_LEAKS_PRELOAD) writing into dir; fails the
// test if the program does not exit 0 or leaves no single trace.
TracedRun run_traced(const std::string& program, const std::filesystem::path& dir);

// Line numbers of the "LEAK-SITE:NAME" comments of a source file, by NAME.
std::map<std::string, std::uint32_t> leak_site_lines(const std::filesystem::path& source);

// Path of a test program or source from the environment variable name (the meson test sets it).
std::string env_path(const char* name);

// True when the site frame is at file_name:line (file_name matched at the end of the path).
bool site_at(const analyzer::SiteFrame& site, std::string_view file_name, std::uint32_t line);

}  // namespace heapwise::test
