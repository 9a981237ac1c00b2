// One place that maps the reader's errors to the command's lines and exit codes.
#include "trace_input.hpp"

#include <cstdio>

#include "cli_common.hpp"

namespace heapwise::cli {

TraceInput read_trace_input(const std::string& path, analyzer::EventVisitor& visitor,
                            const TraceInputHooks& hooks) {
    TraceInput in;
    std::optional<analyzer::TraceReader> reader;
    try {
        reader.emplace(path);
    } catch (const analyzer::TraceError& e) {
        error_line(fmt::format("{}: {}", path, e.what()));
        in.exit_code = kExitUsage;
        return in;
    }
    in.file_size = reader->file_size();
    if (hooks.opened) hooks.opened(*reader);
    try {
        in.summary = hooks.reading ? hooks.reading(*reader) : reader->read(visitor);
    } catch (const analyzer::TraceError& e) {  // a visitor's own error: nothing usable was printed
        std::fflush(stdout);
        error_line(fmt::format("{}: {}", path, e.what()));
        in.exit_code = kExitUsage;
        return in;
    }
    if (hooks.read) hooks.read(*reader, in.summary);
    std::fflush(stdout);
    if (!in.summary.clean()) {
        const auto& first = in.summary.damage.front();
        std::string line = fmt::format("{}: {}", path, first.what());
        if (in.summary.damaged > 1)
            line += fmt::format(" (and {} more damaged places)", in.summary.damaged - 1);
        error_line(line);
        in.exit_code = kExitDamaged;
    }
    return in;
}

}  // namespace heapwise::cli
