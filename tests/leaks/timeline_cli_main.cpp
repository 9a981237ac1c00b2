// A stand-in `heapwise` with only the timeline subcommand, so tests/leaks can run
// tools/cli/timeline.cpp as a real process with the command's own conventions (one error line,
// exit 2 on bad options) before the main command registers it.
#include <CLI/CLI.hpp>

#include "cli_common.hpp"

namespace heapwise::cli {
void register_timeline(CLI::App& app, Runner& run);
}

int main(int argc, char** argv) {
    using namespace heapwise::cli;
    CLI::App app{"heapwise (timeline only, for tests)"};
    app.require_subcommand(1);
    Runner run;
    register_timeline(app, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        error_line(fmt::format("{} (see heapwise --help)", e.what()));
        return kExitUsage;
    }
    try {
        return run ? run() : kExitUsage;
    } catch (const std::exception& e) {
        error_line(e.what());
        return kExitUsage;
    }
}
