// `heapwise report FILE`: the whole run at a glance: duration, allocations and temporaries,
// total allocated, peak heap and when (with the RSS then), peak RSS, what was leaked, and the top
// sites by peak contribution, by leaked bytes and by number of allocations.
#include <CLI/CLI.hpp>

#include "analysis.hpp"
#include "analyzer/report/render_json.hpp"
#include "analyzer/report/render_text.hpp"
#include "cli_common.hpp"

namespace heapwise::cli {

using namespace heapwise::analyzer;

void register_report(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("report", "Summary of a trace: peak, leaks, top sites");
    auto path = std::make_shared<std::string>();
    auto args = std::make_shared<AnalysisArgs>();
    cmd->add_option("FILE", *path, "trace file (.hwt)")->required();
    add_analysis_options(*cmd, *args, "lineno", false);
    cmd->callback([&run, path, args] {
        run = [path, args] {
            const ParsedArgs parsed = parse_analysis_args(*args);
            ReplayRequest request;
            request.points = {parse_point("peak"), parse_point("end")};
            const auto trace = load_trace(*path, request, *args, parsed);
            SourceLines sources;
            const ReportDoc doc =
                build_report(trace->summary, trace->result, *trace->symbols, parsed.table, sources);
            const std::string text = args->json ? to_json(doc).dump(2) + "\n"
                                                : render_text(doc, {use_color()});
            return finish(text, {trace.get()}, false);
        };
    });
}

}  // namespace heapwise::cli
