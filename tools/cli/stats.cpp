// `heapwise stats FILE [--json]`: the counts of a trace from a full replay (analyzer's
// StatsBuilder): events, allocations by function, frees, bytes, peak heap and when, live at
// end, threads, stacks, modules, markers, RSS, losses, and the replay's inconsistencies.
// Text lines give exact integers beside human units so scripts can parse them.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "analyzer/trace_stats.hpp"
#include "cli_common.hpp"
#include "trace_input.hpp"

namespace heapwise::cli {

namespace {

using namespace heapwise::analyzer;

std::string by_fn_text(const TraceStats& s, bool allocs) {
    std::string out;
    const std::size_t n = allocs ? s.allocs_by_fn.size() : s.frees_by_fn.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t count = allocs ? s.allocs_by_fn[i] : s.frees_by_fn[i];
        if (count == 0) continue;
        const char* name = allocs ? to_string(static_cast<AllocFn>(i)) : to_string(static_cast<FreeFn>(i));
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, group_thousands(count));
    }
    return out.empty() ? "" : " (" + out + ")";
}

void print_text(const std::string& path, std::uint64_t file_size, const TraceStats& s,
                const ReadSummary& summary) {
    std::string out;
    const auto row = [&out](std::string_view name, const std::string& value) {
        out += fmt::format("{:<22}{}\n", name, value);
    };
    row("file", fmt::format("{} ({} bytes, {})", path, file_size, human_bytes(file_size)));
    if (s.process) {
        const auto& p = *s.process;
        row("process", fmt::format("pid {}, ppid {}, {}", p.pid, p.ppid, p.exe));
        std::string mode = to_string(p.mode);
        if (p.mode == Mode::kSampled) mode += fmt::format(", sample interval {} bytes", p.sample_interval);
        row("mode", mode);
        row("unwinder", fmt::format("{}, max depth {}", to_string(p.unwinder), p.max_depth));
    } else {
        row("process", "unknown (no process_info record)");
    }
    row("duration", fmt::format("{} s", seconds(s.duration_ns)));
    row("records", group_thousands(s.records));
    row("events", fmt::format("{} ({:.2f} bytes per event)", group_thousands(s.events),
                              s.events ? static_cast<double>(file_size) / static_cast<double>(s.events) : 0.0));
    row("allocations", group_thousands(s.allocs) + by_fn_text(s, true));
    row("frees", group_thousands(s.frees) + by_fn_text(s, false));
    if (s.frees_null) row("frees of NULL", group_thousands(s.frees_null));
    row("reallocs", fmt::format("{} ({} failed)", group_thousands(s.reallocs), group_thousands(s.realloc_failed)));
    row("bytes allocated", fmt::format("{} ({})", group_thousands(s.bytes_allocated), human_bytes(s.bytes_allocated)));
    row("peak heap", fmt::format("{} ({}) in {} blocks at {} s", group_thousands(s.peak_live_bytes),
                                 human_bytes(s.peak_live_bytes), group_thousands(s.peak_live_blocks),
                                 seconds(s.peak_time_ns)));
    row("live at end", fmt::format("{} ({}) in {} blocks", group_thousands(s.live_bytes),
                                   human_bytes(s.live_bytes), group_thousands(s.live_blocks)));
    row("threads", group_thousands(s.threads));
    row("stacks", group_thousands(s.stacks));
    row("modules", fmt::format("{} ({} unloaded)", group_thousands(s.modules), group_thousands(s.module_unloads)));
    std::string labels;
    for (std::size_t i = 0; i < s.marker_labels.size() && i < 10; ++i)
        labels += fmt::format("{}{}", i ? ", " : ": ", s.marker_labels[i]);
    if (s.marker_labels.size() > 10) labels += ", ...";
    row("markers", group_thousands(s.markers) + labels);
    row("rss samples", fmt::format("{} (max {} bytes, {})", group_thousands(s.rss_samples),
                                   group_thousands(s.max_rss_bytes), human_bytes(s.max_rss_bytes)));
    row("lost", fmt::format("{} allocations, {} frees, {} bytes", group_thousands(s.lost_allocs),
                            group_thousands(s.lost_frees), group_thousands(s.lost_bytes)));
    row("inconsistencies",
        fmt::format("{} (free of unknown address {}, allocation of live address {}, unmatched "
                    "failed realloc {})",
                    s.free_of_unknown + s.alloc_of_live + s.realloc_failed_unknown,
                    s.free_of_unknown, s.alloc_of_live, s.realloc_failed_unknown));
    if (s.end) {
        row("end", fmt::format("{} (writer counted {} events, {} lost)", to_string(s.end->reason),
                               group_thousands(s.end->events), group_thousands(s.end->lost_events)));
    } else {
        row("end", "missing (the process did not finish its trace)");
    }
    row("damage", summary.clean() ? std::string("none")
                                  : fmt::format("{} damaged places", summary.damaged));
    std::fwrite(out.data(), 1, out.size(), stdout);
}

nlohmann::json to_json(const std::string& path, std::uint64_t file_size, const TraceStats& s,
                       const ReadSummary& summary) {
    nlohmann::json j;
    j["schema"] = "heapwise-stats";
    j["version"] = 1;
    j["file"] = {{"path", path}, {"size", file_size}};
    if (s.process) {
        const auto& p = *s.process;
        j["process"] = {{"pid", p.pid}, {"ppid", p.ppid}, {"exe", p.exe}, {"cwd", p.cwd},
                        {"args", p.args}, {"mode", to_string(p.mode)},
                        {"sample_interval", p.sample_interval}, {"unwinder", to_string(p.unwinder)},
                        {"max_depth", p.max_depth}, {"start_unix_ns", p.start_unix_ns}};
    } else {
        j["process"] = nullptr;
    }
    nlohmann::json allocs_by_fn = nlohmann::json::object();
    for (std::size_t i = 0; i < s.allocs_by_fn.size(); ++i)
        allocs_by_fn[to_string(static_cast<AllocFn>(i))] = s.allocs_by_fn[i];
    nlohmann::json frees_by_fn = nlohmann::json::object();
    for (std::size_t i = 0; i < s.frees_by_fn.size(); ++i)
        frees_by_fn[to_string(static_cast<FreeFn>(i))] = s.frees_by_fn[i];
    j["duration_ns"] = s.duration_ns;
    j["records"] = s.records;
    j["events"] = s.events;
    j["bytes_per_event"] = s.events ? static_cast<double>(file_size) / static_cast<double>(s.events) : 0.0;
    j["allocations"] = {{"count", s.allocs}, {"by_function", allocs_by_fn}};
    j["frees"] = {{"count", s.frees}, {"by_function", frees_by_fn}, {"null", s.frees_null}};
    j["reallocs"] = {{"count", s.reallocs}, {"failed", s.realloc_failed}};
    j["bytes_allocated"] = s.bytes_allocated;
    j["peak"] = {{"bytes", s.peak_live_bytes}, {"blocks", s.peak_live_blocks}, {"time_ns", s.peak_time_ns}};
    j["live_at_end"] = {{"bytes", s.live_bytes}, {"blocks", s.live_blocks}};
    j["threads"] = s.threads;
    j["stacks"] = s.stacks;
    j["modules"] = {{"loaded", s.modules}, {"unloaded", s.module_unloads}};
    j["markers"] = {{"count", s.markers}, {"labels", s.marker_labels}};
    j["rss"] = {{"samples", s.rss_samples}, {"max_bytes", s.max_rss_bytes}};
    j["lost"] = {{"allocs", s.lost_allocs}, {"frees", s.lost_frees}, {"bytes", s.lost_bytes}};
    j["inconsistencies"] = {{"free_of_unknown", s.free_of_unknown},
                            {"alloc_of_live", s.alloc_of_live},
                            {"realloc_failed_unknown", s.realloc_failed_unknown}};
    if (s.end) {
        const auto& e = *s.end;
        j["end"] = {{"reason", to_string(e.reason)}, {"events", e.events}, {"allocs", e.allocs},
                    {"frees", e.frees}, {"bytes_allocated", e.bytes_allocated},
                    {"lost_events", e.lost_events}, {"stacks", e.stacks}, {"threads", e.threads}};
    } else {
        j["end"] = nullptr;
    }
    nlohmann::json damage = nlohmann::json::array();
    for (const auto& d : summary.damage)
        damage.push_back({{"kind", std::string(to_string(d.kind()))}, {"offset", d.offset()}, {"message", d.what()}});
    j["damage"] = {{"count", summary.damaged}, {"first", damage}};
    return j;
}

}  // namespace

void register_stats(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("stats", "Counts, bytes, peak heap and losses of a trace");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("FILE", *path, "trace file (.hwt)")->required();
    cmd->add_flag("--json", *json, "print JSON (schema heapwise-stats, version 1)");
    cmd->callback([&run, path, json] {
        run = [path, json] {
            StatsBuilder builder;
            TraceInputHooks hooks;
            hooks.reading = [&builder](TraceReader& reader) { return reader.read_with(builder); };
            hooks.read = [&](const TraceReader& reader, const ReadSummary& summary) {
                if (*json) {
                    const std::string text =
                        to_json(*path, reader.file_size(), builder.stats(), summary).dump(2) + "\n";
                    std::fwrite(text.data(), 1, text.size(), stdout);
                } else {
                    print_text(*path, reader.file_size(), builder.stats(), summary);
                }
            };
            return read_trace_input(*path, builder, hooks).exit_code;
        };
    });
}

}  // namespace heapwise::cli
