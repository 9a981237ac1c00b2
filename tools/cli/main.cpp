// The heapwise command: a thin main over the libraries. Each subcommand lives in its own file
// and registers itself here; errors in the command line are one line and exit code 2.
#include <CLI/CLI.hpp>

#include <algorithm>

#include "cli_common.hpp"
#include "record.hpp"

int main(int argc, char** argv) {
    using namespace heapwise::cli;
    CLI::App app{"heapwise: where a Linux process's heap memory goes.\n"
                 "  heapwise record [options] -- PROGRAM ARGS...   trace a program\n"
                 "  heapwise dump FILE                             every record of a trace\n"
                 "  heapwise stats FILE                            counts, bytes, peak heap\n"
                 "  heapwise report FILE                           peak, leaks, top sites\n"
                 "  heapwise diff FILE --from P --to P | OLD NEW   what grew, by site\n"
                 "  heapwise leaks FILE                            never freed, kept growing\n"
                 "  heapwise timeline FILE                         heap and RSS over time (CSV, SVG)"};
    app.require_subcommand(1);
    Runner run;
    register_record(app, run);
    register_dump(app, run);
    register_stats(app, run);
    register_report(app, run);
    register_diff(app, run);
    register_leaks(app, run);
    register_timeline(app, run);
    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        args = with_command_separator(std::move(args));
        std::reverse(args.begin(), args.end());  // CLI11 takes them last first
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (what.empty()) what = "bad command line";
        error_line(fmt::format("{} (see heapwise --help)", what));
        return kExitUsage;
    }
    try {
        return run ? run() : kExitUsage;
    } catch (const std::exception& e) {
        error_line(e.what());
        return kExitUsage;
    }
}
