// Shared options, trace loading and the ending of the analysis commands.
#include "analysis.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "analyzer/report/module_dirs.hpp"
#include "cli_common.hpp"
#include "progress.hpp"

namespace heapwise::cli {

using namespace heapwise::analyzer;

void add_analysis_options(CLI::App& cmd, AnalysisArgs& args, const std::string& default_by, bool growth) {
    args.by = default_by;
    cmd.add_option("--by", args.by,
                   "group by lineno, function, file, module, traceback or stack (default " +
                       default_by + ")");
    cmd.add_option("--top", args.top, "rows per table, 0 for all (default 10)");
    cmd.add_option("--filter", args.filters,
                   "keep only sites matching module:GLOB, file:GLOB or function:GLOB (repeatable)");
    cmd.add_option("--exclude", args.excludes, "leave out sites matching a pattern (repeatable)");
    cmd.add_option("--module-dir", args.module_dirs,
                   "look for module files by name in DIR first (repeatable)");
    cmd.add_option("--fold", args.fold,
                   "also fold frames matching function:GLOB or module:GLOB into their caller (repeatable)");
    cmd.add_option("--no-fold", args.no_fold, "remove a rule from the default folding list (repeatable)");
    cmd.add_flag("--json", args.json, "print JSON (docs/report-json.md)");
    if (growth) {
        cmd.add_option("--min-growth", args.min_growth, "only rows that grew by at least SIZE");
        cmd.add_option("--fail-on-growth", args.fail_on_growth,
                       "exit 3 when the growth exceeds SIZE (after printing the report)");
    }
}

ParsedArgs parse_analysis_args(const AnalysisArgs& args) {
    ParsedArgs p;
    p.table.by = parse_group_by(args.by);
    p.table.top = args.top;
    for (const std::string& f : args.filters) p.table.filters.include.push_back(parse_filter(f));
    for (const std::string& f : args.excludes) p.table.filters.exclude.push_back(parse_filter(f));
    if (!args.min_growth.empty()) p.table.min_growth = parse_size(args.min_growth);
    if (!args.fail_on_growth.empty()) p.fail_on_growth = parse_size(args.fail_on_growth);
    for (const std::string& text : args.fold) p.folder.add(parse_fold_rule(text));
    for (const std::string& text : args.no_fold) {
        if (!p.folder.remove(parse_fold_rule(text))) {
            throw SpecError("--no-fold '" + text + "': not in the folding list (docs/symbols.md)");
        }
    }
    for (const std::string& dir : args.module_dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            throw SpecError("bad --module-dir '" + dir + "': not a directory");
        }
    }
    return p;
}

std::unique_ptr<LoadedTrace> load_trace(const std::string& path, ReplayRequest request,
                                        const AnalysisArgs& args, const ParsedArgs& parsed) {
    auto loaded = std::make_unique<LoadedTrace>();
    ProgressBar bar("reading " + std::filesystem::path(path).filename().string());
    if (bar.enabled()) request.progress = [&bar](const ReplayRequest::Progress& p) { bar.update(p); };
    try {
        loaded->result = replay_trace(path, request);
    } catch (const TraceError& e) {
        bar.erase();
        throw std::runtime_error(path + ": " + e.what());
    }
    bar.erase();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    loaded->summary = summarize(path, ec ? 0 : size, loaded->result);
    if (!args.module_dirs.empty()) {
        loaded->result.modules = with_module_dirs(loaded->result.modules, args.module_dirs);
    }
    loaded->symbols = std::make_unique<StackSymbols>(loaded->result, SymbolizerOptions{}, parsed.folder);
    return loaded;
}

int finish(const std::string& text, const std::vector<const LoadedTrace*>& traces, bool failed) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    std::set<std::string> said;
    bool damaged = false;
    for (const LoadedTrace* t : traces) {
        for (const SymbolWarning& w : t->symbols->warnings()) {
            if (said.insert(w.message).second) error_line("warning: " + w.message);
        }
    }
    std::set<std::string> paths;
    for (const LoadedTrace* t : traces) {
        const ReadSummary& s = t->result.summary;
        if (s.clean() || !paths.insert(t->summary.path).second) continue;
        damaged = true;
        std::string line = fmt::format("{}: {}", t->summary.path, s.damage.front().what());
        if (s.damaged > 1) line += fmt::format(" (and {} more damaged places)", s.damaged - 1);
        error_line(line + "; the report covers the readable blocks");
    }
    if (failed) return kExitGrowth;
    return damaged ? kExitDamaged : kExitOk;
}

bool use_color() {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && *no_color != '\0') return false;
    return ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace heapwise::cli
