// `heapwise record [options] -- PROGRAM ARGS...`: checks every option before running anything,
// turns them into the tracer's HEAPWISE_* variables (include/heapwise/tracer_env.hpp), runs the
// program with the shim prepended to LD_PRELOAD (this process itself is never traced), prints
// one line saying where the trace went, and ends as the program ended.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "cli_common.hpp"
#include "heapwise/tracer_env.hpp"
#include "record.hpp"

extern char** environ;

namespace heapwise::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kPreloadName = "libheapwise_preload.so";
constexpr const char* kDefaultPattern = "heapwise.%e.%p.hwt";  // the tracer's own default

struct RecordOptions {
    std::vector<std::string> command;
    std::string output, unwind, mode, sample_interval, fork, snapshot_signal, snapshot_every,
        rss_interval, compression;
    bool compression_given = false;  // even as "", which is then refused
    int depth = 0;
    bool no_follow = false;
    bool no_python_malloc = false;
};

// "USR2", "SIGUSR2", "12", "RTMIN+3" -> signal number, 0 if unknown or uncatchable.
int parse_signal(std::string text) {
    if (text.rfind("SIG", 0) == 0) text = text.substr(3);
    if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
        const int n = text.size() <= 3 ? std::stoi(text) : 0;
        return n > 0 && n < NSIG && n != SIGKILL && n != SIGSTOP ? n : 0;
    }
    static const std::map<std::string, int> kNames = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"PROF", SIGPROF},
        {"WINCH", SIGWINCH}, {"URG", SIGURG}, {"IO", SIGIO},     {"PWR", SIGPWR},
        {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"VTALRM", SIGVTALRM}, {"CONT", SIGCONT},
        {"CHLD", SIGCHLD}, {"PIPE", SIGPIPE}};
    if (const auto it = kNames.find(text); it != kNames.end()) return it->second;
    if (text.rfind("RTMIN", 0) == 0) {
        const std::string rest = text.substr(5);
        if (rest.empty()) return SIGRTMIN;
        if (rest.size() <= 3 && rest[0] == '+' && rest.size() > 1 &&
            std::all_of(rest.begin() + 1, rest.end(), ::isdigit)) {
            const int n = SIGRTMIN + std::stoi(rest.substr(1));
            return n <= SIGRTMAX ? n : 0;
        }
    }
    return 0;
}

// Checks every option; on the first bad one returns its one-line message.
std::optional<std::string> check(const RecordOptions& o, std::map<std::string, std::string>& env) {
    if (o.command.empty()) return "record: no program given (usage: heapwise record [options] -- PROGRAM ARGS...)";
    if (!o.output.empty()) env[env::kOutput] = o.output;
    if (o.depth != 0) env[env::kDepth] = std::to_string(o.depth);
    if (!o.unwind.empty()) env[env::kUnwind] = o.unwind;
    std::string mode = o.mode;
    if (!o.sample_interval.empty()) {
        const auto bytes = try_parse_size(o.sample_interval);
        if (!bytes || *bytes == 0)
            return fmt::format("record: --sample-interval {}: not a size (e.g. 512KiB, 1MiB, 4096)", o.sample_interval);
        if (mode.empty()) mode = "sampled";
        if (mode != "sampled") return "record: --sample-interval needs --mode sampled";
        env[env::kSampleInterval] = std::to_string(*bytes);
    }
    if (!mode.empty()) env[env::kMode] = mode;
    if (o.no_follow) env[env::kFollowExec] = "0";
    if (!o.fork.empty()) env[env::kFork] = o.fork;
    if (!o.snapshot_signal.empty()) {
        const int sig = parse_signal(o.snapshot_signal);
        if (sig == 0) return fmt::format("record: --snapshot-signal {}: not a signal that can be caught (e.g. USR2, 12)", o.snapshot_signal);
        env[env::kSnapshotSignal] = std::to_string(sig);
    }
    const auto duration = [&](const std::string& value, const char* flag, const char* var) -> std::optional<std::string> {
        if (value.empty()) return std::nullopt;
        const auto ns = try_parse_duration_ns(value);
        if (!ns || *ns < 1'000'000)
            return fmt::format("record: {} {}: not a duration of at least 1ms (e.g. 10s, 500ms)", flag, value);
        // The tracer reads whole numbers only: a decimal ("1.5s") goes to it in nanoseconds.
        env[var] = value.find('.') == std::string::npos ? value : std::to_string(*ns) + "ns";
        return std::nullopt;
    };
    if (auto e = duration(o.snapshot_every, "--snapshot-every", env::kSnapshotEvery)) return e;
    if (auto e = duration(o.rss_interval, "--rss-interval", env::kRssInterval)) return e;
    if (o.compression_given) {
        env::Compression c;
        if (!env::parse_compression(o.compression.c_str(), c))
            return fmt::format("record: --compression {}: {}", o.compression, env::kCompressionExpected);
        env[env::kCompression] = o.compression;
    }
    return std::nullopt;
}

std::uint64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

int run_record(const RecordOptions& o) {
    std::map<std::string, std::string> vars;
    if (auto bad = check(o, vars)) {
        error_line(*bad);
        return kExitUsage;
    }
    std::string why;
    const std::string preload = find_preload(why);
    if (preload.empty()) {
        error_line(why);
        return kExitUsage;
    }
    // The child's environment: ours, with the tracer's variables set and the shim first.
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (eq != nullptr) env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
    }
    for (auto& [k, v] : vars) env[k] = v;
    const auto old_preload = env.find("LD_PRELOAD");
    env["LD_PRELOAD"] = old_preload != env.end() && !old_preload->second.empty()
                            ? preload + ":" + old_preload->second
                            : preload;
    if (!o.no_python_malloc && !env.count("PYTHONMALLOC")) env["PYTHONMALLOC"] = "malloc";
    std::vector<std::string> envp;
    for (const auto& [k, v] : env) envp.push_back(k + "=" + v);
    const auto output_it = env.find(env::kOutput);
    const std::string pattern =
        output_it != env.end() && !output_it->second.empty() ? output_it->second : kDefaultPattern;

    const std::uint64_t started = realtime_ns();
    const ChildOutcome child = run_child(o.command, envp);
    if (child.pid < 0) {
        error_line(fmt::format("cannot start {}: {}", o.command[0], std::strerror(child.exec_errno)));
        return 127;
    }
    if (child.exec_errno != 0) {
        error_line(fmt::format("{}: {}", o.command[0], std::strerror(child.exec_errno)));
        return child.exec_errno == ENOENT ? 127 : 126;  // as a shell: not found / not executable
    }
    error_line(traces_line(pattern, child.pid, started));
    exit_like(child.status);
}

}  // namespace

std::vector<std::string> with_command_separator(std::vector<std::string> args) {
    // Options of record that take a value (as the next argument unless written --opt=value).
    static const std::set<std::string> kWithValue = {
        "-o", "--output", "--depth", "--unwind", "--mode", "--sample-interval", "--fork",
        "--snapshot-signal", "--snapshot-every", "--rss-interval", "--compression"};
    std::size_t i = 0;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") ++i;
    if (i == args.size() || args[i] != "record") return args;  // another subcommand
    for (++i; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") return args;
        if (a.size() > 1 && a[0] == '-') {
            if (kWithValue.count(a)) ++i;
            continue;
        }
        args.insert(args.begin() + static_cast<long>(i), "--");  // the program starts here
        return args;
    }
    return args;
}

std::string find_preload(std::string& error) {
    if (const char* env = std::getenv("HEAPWISE_PRELOAD"); env != nullptr && *env != '\0') {
        std::error_code ec;
        if (!fs::is_regular_file(env, ec)) {
            error = fmt::format("HEAPWISE_PRELOAD={}: no such file", env);
            return {};
        }
        return fs::absolute(env, ec).lexically_normal().string();
    }
    std::error_code ec;
    const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
    const fs::path build = exe_dir / ".." / ".." / "preload" / kPreloadName;
    if (!ec && fs::is_regular_file(build, ec)) return fs::weakly_canonical(build, ec).string();
    const fs::path lib = exe_dir / ".." / "lib";
    if (fs::is_directory(lib, ec)) {
        for (auto it = fs::recursive_directory_iterator(lib, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it.depth() > 3) it.disable_recursion_pending();
            if (it->path().filename() == kPreloadName && it->is_regular_file(ec))
                return fs::weakly_canonical(it->path(), ec).string();
        }
    }
    error = fmt::format("cannot find {} (looked in {} and {}); set HEAPWISE_PRELOAD to its path",
                        kPreloadName, build.lexically_normal().string(), lib.lexically_normal().string());
    return {};
}

void register_record(CLI::App& app, Runner& run) {
    auto o = std::make_shared<RecordOptions>();
    auto* cmd = app.add_subcommand(
        "record",
        "Run a program under the tracer and write its trace.\n"
        "By default the program runs with PYTHONMALLOC=malloc (unless already set), so CPython's\n"
        "objects are seen one by one instead of hidden in its own arenas; --no-python-malloc\n"
        "turns that off. Exits with the program's status (or dies by its signal).");
    cmd->add_option("-o,--output", o->output,
                    "trace path pattern: %p pid, %e executable name, %% percent "
                    "(default heapwise.%e.%p.hwt in the working directory)");
    cmd->add_option("--depth", o->depth, "frames per stack, 1..1024 (default 64)")->check(CLI::Range(1, 1024));
    cmd->add_option("--unwind", o->unwind, "stack capture: cached (default), libunwind or fp")
        ->check(CLI::IsMember({"cached", "libunwind", "fp"}));
    cmd->add_option("--mode", o->mode, "lossless (default), lossy (drop and count when behind) or sampled")
        ->check(CLI::IsMember({"lossless", "lossy", "sampled"}));
    cmd->add_option("--sample-interval", o->sample_interval,
                    "mean bytes between samples in sampled mode, e.g. 512KiB, 1MiB (implies --mode sampled)");
    cmd->add_flag("--no-follow", o->no_follow, "do not trace programs the traced program execs");
    cmd->add_option("--fork", o->fork, "forked children: trace (own trace file, default) or stop")
        ->check(CLI::IsMember({"trace", "stop"}));
    cmd->add_option("--snapshot-signal", o->snapshot_signal, "signal that writes a snapshot marker, e.g. USR2");
    cmd->add_option("--snapshot-every", o->snapshot_every, "write a snapshot marker periodically, e.g. 10s, 500ms");
    cmd->add_option("--rss-interval", o->rss_interval, "RSS sampling period (default 100ms)");
    auto* compression = cmd->add_option("--compression", o->compression,
                    "block codec: lz4 (default: fastest to write and to read), zstd (level 1: "
                    "traces 1.2-1.5x smaller), zstd:LEVEL (1-19) or none");
    cmd->add_flag("--no-python-malloc", o->no_python_malloc, "do not set PYTHONMALLOC=malloc");
    cmd->add_option("command", o->command, "PROGRAM ARGS... (after --)");
    cmd->callback([&run, o, compression] {
        o->compression_given = compression->count() > 0;
        run = [o] { return run_record(*o); };
    });
}

}  // namespace heapwise::cli
