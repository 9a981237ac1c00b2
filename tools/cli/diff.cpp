// `heapwise diff FILE --from P --to P` (two points of one trace, by default start and end) and
// `heapwise diff OLD NEW` (two traces, by default the end of each; --from is OLD's point, --to
// NEW's, --at sets both): tracemalloc's compare_to, grouped, filtered, largest change first.
#include <CLI/CLI.hpp>

#include "analysis.hpp"
#include "analyzer/report/render_json.hpp"
#include "analyzer/report/render_text.hpp"
#include "cli_common.hpp"

namespace heapwise::cli {

using namespace heapwise::analyzer;

namespace {

struct DiffArgs {
    std::vector<std::string> files;
    std::string from, to, at;
};

int run_diff(const DiffArgs& d, const AnalysisArgs& args) {
    const ParsedArgs parsed = parse_analysis_args(args);
    const bool two = d.files.size() == 2;
    if (!two && !d.at.empty()) {
        throw SpecError("--at needs two traces (heapwise diff OLD NEW --at POINT); with one trace use --from and --to");
    }
    const std::string from_text = !d.from.empty() ? d.from : !d.at.empty() ? d.at : two ? "end" : "start";
    const std::string to_text = !d.to.empty() ? d.to : !d.at.empty() ? d.at : "end";
    const PointSpec from = parse_point(from_text);
    const PointSpec to = parse_point(to_text);
    SourceLines sources;
    if (!two) {
        ReplayRequest request;
        request.points = {from, to};
        const auto trace = load_trace(d.files[0], request, args, parsed);
        const DiffDoc doc = build_diff(trace->summary, trace->result, 0, *trace->symbols,
                                       trace->summary, trace->result, 1, *trace->symbols, false,
                                       parsed.table, parsed.fail_on_growth, sources);
        const std::string text = args.json ? to_json(doc).dump(2) + "\n" : render_text(doc, {use_color()});
        return finish(text, {trace.get()}, doc.failed);
    }
    ReplayRequest old_request;
    old_request.points = {from};
    const auto older = load_trace(d.files[0], old_request, args, parsed);
    ReplayRequest new_request;
    new_request.points = {to};
    const auto newer = load_trace(d.files[1], new_request, args, parsed);
    const DiffDoc doc = build_diff(older->summary, older->result, 0, *older->symbols, newer->summary,
                                   newer->result, 0, *newer->symbols, true, parsed.table,
                                   parsed.fail_on_growth, sources);
    const std::string text = args.json ? to_json(doc).dump(2) + "\n" : render_text(doc, {use_color()});
    return finish(text, {older.get(), newer.get()}, doc.failed);
}

}  // namespace

void register_diff(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("diff", "What grew between two points of a trace, or two traces");
    auto d = std::make_shared<DiffArgs>();
    auto args = std::make_shared<AnalysisArgs>();
    cmd->add_option("FILES", d->files, "one trace (two points of it) or two traces (OLD NEW)")
        ->required()
        ->expected(1, 2);
    cmd->add_option("--from", d->from,
                    "older point: start, end, peak, a time (90s), a marker label (default: start; "
                    "with two traces: OLD's end)");
    cmd->add_option("--to", d->to, "newer point (default: end; with two traces: NEW's end)");
    cmd->add_option("--at", d->at, "with two traces: the point of both");
    add_analysis_options(*cmd, *args, "lineno", true);
    cmd->callback([&run, d, args] { run = [d, args] { return run_diff(*d, *args); }; });
}

}  // namespace heapwise::cli
