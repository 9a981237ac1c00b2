// The end-to-end tests' process harness: runs real programs with a clean environment (no inherited
// LD_PRELOAD or HEAPWISE_* settings), with or without the tracer, captures stdout and stderr, and
// bounds every run with a timeout after which the run's whole process group is killed, so a hang
// fails a test instead of hanging CI. Also temp dirs and a local `python3 -m http.server`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heapwise::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Where the build put what the tests run (passed by meson through the environment).
struct Paths {
    fs::path preload;   // libheapwise_preload.so, absolute
    fs::path cli;       // the heapwise command
    fs::path programs;  // the test programs' build dir
    fs::path scripts;   // tests/e2e/scripts in the source tree
    fs::path dlib;      // the shared module the dlopen test loads
    static const Paths& get();
    fs::path program(std::string_view name) const { return programs / std::string(name); }
};

struct Command {
    Command(std::vector<std::string> argv_) : argv(std::move(argv_)) {}  // NOLINT: implicit on purpose
    Command(std::vector<std::string> argv_, std::chrono::milliseconds timeout_)
        : argv(std::move(argv_)), timeout(timeout_) {}
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> env;  // set on top of the clean environment
    fs::path cwd;                                           // empty: the test's own
    std::chrono::milliseconds timeout = 30s;
    fs::path stdin_file;                                    // empty: /dev/null
};

struct Outcome {
    pid_t pid = -1;
    int exit_code = -1;    // set when the process exited
    int term_signal = 0;   // set when a signal killed it
    bool timed_out = false;
    std::string out;
    std::string err;
    bool exited_with(int code) const { return !timed_out && term_signal == 0 && exit_code == code; }
    bool same_status(const Outcome& o) const {
        return !timed_out && !o.timed_out && exit_code == o.exit_code && term_signal == o.term_signal;
    }
    std::string describe() const;  // one paragraph for assertion messages
};

// A started process. The destructor kills its process group if it is still running.
class Process {
public:
    explicit Process(const Command& cmd);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    std::string stdout_so_far() const;
    // Waits until stdout contains needle or the process ends; false on timeout or early end.
    bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds limit);
    void signal(int sig) const;
    // Waits until the process ends or the command's timeout (counted from the start) passes.
    Outcome wait();

private:
    bool reap(std::chrono::milliseconds limit);
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    int status_ = 0;
    bool reaped_ = false;
    bool timed_out_ = false;
    std::chrono::steady_clock::time_point deadline_;
};

Outcome run(const Command& cmd);

// The command with the tracer preloaded, tracing into dir as %e.%p.hwt.
Command traced(Command cmd, const fs::path& dir);

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const noexcept { return path_; }
    fs::path operator/(std::string_view name) const { return path_ / std::string(name); }

private:
    fs::path path_;
};

// Trace files (*.hwt) in dir, sorted by name.
std::vector<fs::path> traces_in(const fs::path& dir);

void write_file(const fs::path& path, std::string_view content);
std::string read_file(const fs::path& path);

// `python3 -m http.server` serving root on 127.0.0.1 at a free port, untraced; stopped (and
// reaped) by the destructor whatever happens in the test.
class HttpServer {
public:
    explicit HttpServer(const fs::path& root);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    int port() const noexcept { return port_; }
    std::string url(std::string_view file) const;

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace heapwise::e2e
