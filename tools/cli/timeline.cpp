// `heapwise timeline FILE [--csv OUT] [--svg OUT] [--points N]`: the heap over time as CSV and a
// self-contained SVG (analyzer/timeline, docs/timeline.md). Without --csv or --svg both are
// written beside the trace (trace.hwt -> trace.timeline.csv, trace.timeline.svg); "-" is stdout.
// Outputs are written to a temp file in their directory first and renamed at the end, so an
// unwritable path fails before the trace is read and a failed run leaves no half-written file.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "analyzer/timeline/timeline.hpp"
#include "cli_common.hpp"
#include "trace_input.hpp"

namespace heapwise::cli {
namespace {

using namespace heapwise::analyzer;
namespace fs = std::filesystem;

// One output file: a temp file beside the target, renamed over it by commit().
class Output {
public:
    explicit Output(std::string target) : target_(std::move(target)) {}
    ~Output() {
        if (fd_ >= 0) ::close(fd_);
        if (!temp_.empty()) ::unlink(temp_.c_str());
    }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    bool to_stdout() const { return target_ == "-"; }
    const std::string& target() const { return target_; }

    // Creates the temp file; false (with the error line printed) when the target is unwritable.
    bool open() {
        if (to_stdout()) return true;
        std::error_code ec;
        if (fs::is_directory(target_, ec)) return fail("is a directory");
        fs::path dir = fs::path(target_).parent_path();
        if (dir.empty()) dir = ".";
        std::string tmpl = (dir / ("." + fs::path(target_).filename().string() + ".XXXXXX")).string();
        fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
        if (fd_ < 0) return fail(std::strerror(errno));
        temp_ = tmpl;
        return true;
    }

    // Writes text and renames the temp file over the target (with the umask's usual mode).
    bool commit(const std::string& text) {
        if (to_stdout()) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            return std::fflush(stdout) == 0 || fail(std::strerror(errno));
        }
        for (std::size_t done = 0; done < text.size();) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail(std::strerror(n < 0 ? errno : EIO));
            done += static_cast<std::size_t>(n);
        }
        const mode_t mask = ::umask(0);
        ::umask(mask);
        if (::fchmod(fd_, 0666 & ~mask) != 0 || ::close(fd_) != 0) {
            fd_ = -1;
            return fail(std::strerror(errno));
        }
        fd_ = -1;
        if (::rename(temp_.c_str(), target_.c_str()) != 0) return fail(std::strerror(errno));
        temp_.clear();
        return true;
    }

private:
    bool fail(const std::string& why) const {
        error_line(fmt::format("cannot write {}: {}", target_, why));
        return false;
    }
    std::string target_;
    std::string temp_;
    int fd_ = -1;
};

std::string beside(const std::string& trace, const char* suffix) {
    fs::path p(trace);
    if (p.extension() == ".hwt") p.replace_extension();
    return p.string() + suffix;
}

struct Options {
    std::string path;
    std::string csv;
    std::string svg;
    std::size_t points = TimelineOptions::kDefaultPoints;
};

int run_timeline(const Options& o) {
    std::vector<std::unique_ptr<Output>> outputs;
    Output* csv = nullptr;
    Output* svg = nullptr;
    const bool defaults = o.csv.empty() && o.svg.empty();
    if (!o.csv.empty() || defaults) {
        outputs.push_back(std::make_unique<Output>(defaults ? beside(o.path, ".timeline.csv") : o.csv));
        csv = outputs.back().get();
    }
    if (!o.svg.empty() || defaults) {
        outputs.push_back(std::make_unique<Output>(defaults ? beside(o.path, ".timeline.svg") : o.svg));
        svg = outputs.back().get();
    }
    if (csv && svg && csv->target() == svg->target()) {
        error_line(fmt::format("--csv and --svg name the same file {}", csv->target()));
        return kExitUsage;
    }
    for (auto& out : outputs) {
        if (!out->open()) return kExitUsage;
    }

    TimelineOptions options;
    options.max_points = o.points;
    TimelineBuilder builder(options);
    bool written = true;
    bool emitted = false;
    auto emit = [&] {
        emitted = true;
        const Timeline t = builder.finish();
        if (csv) written = csv->commit(timeline_csv(t)) && written;
        if (svg) written = svg->commit(timeline_svg(t)) && written;
        if (!written) return;
        // The summary goes where it does not mix with CSV rows.
        std::FILE* info = csv && csv->to_stdout() ? stderr : stdout;
        std::string text = fmt::format(
            "heap over time: {} points (resolution {} s), {} RSS samples, {} markers\n"
            "peak {} bytes ({}) at {} s; live at end {} bytes ({})\n",
            group_thousands(t.heap.size()), seconds(t.heap_bucket_ns), group_thousands(t.rss_samples),
            group_thousands(t.markers_total), group_thousands(t.peak_bytes), human_bytes(t.peak_bytes),
            seconds(t.peak_time_ns), group_thousands(t.end_bytes), human_bytes(t.end_bytes));
        if (t.estimated) text += "sampled trace: heap sizes are estimates\n";
        if (t.lost_events > 0) text += fmt::format("{} events were lost by the tracer\n", t.lost_events);
        for (const auto& out : outputs) {
            if (!out->to_stdout()) text += fmt::format("wrote {}\n", out->target());
        }
        std::fwrite(text.data(), 1, text.size(), info);
    };
    TraceInputHooks hooks;
    hooks.reading = [&builder](TraceReader& reader) { return reader.read_with(builder); };
    hooks.read = [&](const TraceReader&, const ReadSummary&) { emit(); };
    const TraceInput in = read_trace_input(o.path, builder, hooks);
    if (in.exit_code == kExitUsage) return kExitUsage;
    // An I/O error in the middle of the file: what was read before it is still worth writing.
    if (!emitted) emit();
    if (!written) return kExitUsage;
    return in.exit_code;
}

}  // namespace

void register_timeline(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("timeline", "Heap and RSS over time as CSV and an SVG plot");
    auto o = std::make_shared<Options>();
    cmd->add_option("FILE", o->path, "trace file (.hwt)")->required();
    cmd->add_option("--csv", o->csv, "write the CSV here ('-': stdout)");
    cmd->add_option("--svg", o->svg, "write the SVG here ('-': stdout)");
    cmd->add_option("--points", o->points, "at most this many points per series (default 2000)")
        ->check(CLI::Range(std::size_t{TimelineOptions::kMinPoints}, std::size_t{10'000'000}));
    cmd->footer("Without --csv or --svg both are written beside FILE: NAME.timeline.csv and "
                "NAME.timeline.svg.");
    cmd->callback([&run, o] { run = [o] { return run_timeline(*o); }; });
}

}  // namespace heapwise::cli
