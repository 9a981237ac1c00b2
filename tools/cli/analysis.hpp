// What `heapwise report`, `diff` and `leaks` share: the grouping options (--by, --top,
// --filter, --exclude, --module-dir, --json, and --min-growth / --fail-on-growth where they
// apply), reading a trace with the progress bar, and the ending: the report on stdout, then
// each symbol warning once and each trace's damage on stderr, and the exit code (0; 1 damaged
// but read; 3 --fail-on-growth exceeded). Bad input throws one-line errors that main() prints
// with exit code 2.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/report/documents.hpp"

namespace CLI {
class App;
}

namespace heapwise::cli {

struct AnalysisArgs {
    std::string by;
    std::size_t top = 10;
    std::vector<std::string> filters;
    std::vector<std::string> excludes;
    std::vector<std::string> module_dirs;
    std::vector<std::string> fold;     // rules added to the default folding list
    std::vector<std::string> no_fold;  // rules removed from it
    bool json = false;
    std::string min_growth;
    std::string fail_on_growth;
};

// Adds the shared options to cmd; growth adds --min-growth and --fail-on-growth.
void add_analysis_options(CLI::App& cmd, AnalysisArgs& args, const std::string& default_by, bool growth);

struct ParsedArgs {
    analyzer::TableOptions table;
    std::optional<std::uint64_t> fail_on_growth;
    analyzer::FrameFolder folder;
};
// Throws analyzer::SpecError (one line) for a bad key, filter or size.
ParsedArgs parse_analysis_args(const AnalysisArgs& args);

// One trace read for a command: the replay, what the report says about the trace, and its
// symbols (module files looked up in --module-dir first).
struct LoadedTrace {
    analyzer::ReplayResult result;
    analyzer::TraceSummary summary;
    std::unique_ptr<analyzer::StackSymbols> symbols;
};
// Throws std::runtime_error "PATH: why" for a file that is not a usable trace and SpecError for
// an unknown marker.
std::unique_ptr<LoadedTrace> load_trace(const std::string& path, analyzer::ReplayRequest request,
                                        const AnalysisArgs& args, const ParsedArgs& parsed);

// Prints text (already rendered) on stdout, then the warnings and damage of the traces on
// stderr; returns the exit code.
int finish(const std::string& text, const std::vector<const LoadedTrace*>& traces, bool failed);

// Whether text output may be coloured: stdout is a terminal and NO_COLOR is unset or empty.
bool use_color();

}  // namespace heapwise::cli
