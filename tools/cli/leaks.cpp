// `heapwise leaks FILE`: what was never freed (live at the end, largest first, with counts) and
// what kept growing (sites whose live bytes rose in most intervals of the run, with the rate;
// the intervals are between markers, or equal time slices when the trace has none).
#include <CLI/CLI.hpp>

#include "analysis.hpp"
#include "analyzer/report/render_json.hpp"
#include "analyzer/report/render_text.hpp"
#include "cli_common.hpp"

namespace heapwise::cli {

using namespace heapwise::analyzer;

void register_leaks(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("leaks", "Allocations never freed, and sites that kept growing");
    auto path = std::make_shared<std::string>();
    auto args = std::make_shared<AnalysisArgs>();
    auto slices = std::make_shared<std::size_t>(10);
    cmd->add_option("FILE", *path, "trace file (.hwt)")->required();
    cmd->add_option("--slices", *slices,
                    "time slices of the growth series when the trace has no markers (default 10)")
        ->check(CLI::Range(std::size_t{2}, std::size_t{10000}));
    add_analysis_options(*cmd, *args, "traceback", true);
    cmd->callback([&run, path, args, slices] {
        run = [path, args, slices] {
            const ParsedArgs parsed = parse_analysis_args(*args);
            ReplayRequest request;
            request.points = {parse_point("end")};
            request.growth_slices = *slices;
            const auto trace = load_trace(*path, request, *args, parsed);
            SourceLines sources;
            const LeaksDoc doc = build_leaks(trace->summary, trace->result, *trace->symbols,
                                             parsed.table, parsed.fail_on_growth, sources);
            const std::string text = args->json ? to_json(doc).dump(2) + "\n"
                                                : render_text(doc, {use_color()});
            return finish(text, {trace.get()}, doc.failed);
        };
    });
}

}  // namespace heapwise::cli
