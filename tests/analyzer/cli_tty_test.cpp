// Terminal behaviour of the analysis commands, under a real pseudo-terminal: bold titles and
// coloured growth only on a tty and never with NO_COLOR; the progress bar on a tty's stderr
// (HEAPWISE_PROGRESS_DELAY_MS=0 shows it at once on these small traces), erased when reading
// ends. Piped runs (every other CLI test and the goldens) must carry no escape at all.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>

#include "cli_report_support.hpp"

using namespace heapwise;

namespace {

struct PtyRun {
    int status = 0;
    std::string output;  // stdout and stderr, as the terminal saw them
};

// Runs argv in tests/data with stdin, stdout and stderr on a new pty; env entries are set
// (an empty value unsets the variable).
PtyRun run_on_pty(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (chdir(test::data_dir().c_str()) != 0) _exit(126);
        for (const auto& [k, v] : env) {
            if (v.empty()) {
                unsetenv(k.c_str());
            } else {
                setenv(k.c_str(), v.c_str(), 1);
            }
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    PtyRun r;
    char buf[4096];
    for (;;) {
        const ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) {
            r.output.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;  // EIO once the child and its descendants closed the terminal
        }
    }
    close(master);
    REQUIRE(waitpid(pid, &r.status, 0) == pid);
    return r;
}

}  // namespace

TEST_CASE("colour and the progress bar only on a terminal", "[cli][report]") {
    const std::vector<std::string> argv = {test::heapwise_exe(), "diff", "scraper.hwt", "--from", "batch-1",
                                           "--to", "batch-3", "--module-dir", "."};
    const auto tty = run_on_pty(argv, {{"NO_COLOR", ""}, {"HEAPWISE_PROGRESS_DELAY_MS", "0"}});
    CHECK(WIFEXITED(tty.status));
    CHECK(WEXITSTATUS(tty.status) == 0);
    CHECK(tty.output.find("\x1b[1mTop 10 changes (by lineno):\x1b[0m") != std::string::npos);
    CHECK(tty.output.find("size=6240 B (\x1b[31m+4160 B\x1b[0m)") != std::string::npos);
    // One pass (markers are captured as they come); the bar is drawn, then erased before the report.
    CHECK(tty.output.find("reading scraper.hwt [") != std::string::npos);
    CHECK(tty.output.find("(pass ") == std::string::npos);
    const auto erased = tty.output.rfind("\r\x1b[K");
    REQUIRE(erased != std::string::npos);
    CHECK(erased < tty.output.find("trace "));

    const auto no_color = run_on_pty(argv, {{"NO_COLOR", "1"}, {"HEAPWISE_PROGRESS_DELAY_MS", "0"}});
    CHECK(no_color.output.find("\x1b[1m") == std::string::npos);
    CHECK(no_color.output.find("\x1b[31m") == std::string::npos);

    // With the default delay of a second, a trace read in milliseconds shows no bar.
    const auto quick = run_on_pty(argv, {{"NO_COLOR", "1"}, {"HEAPWISE_PROGRESS_DELAY_MS", ""}});
    CHECK(quick.output.find("reading scraper.hwt") == std::string::npos);
    CHECK(quick.output.find("\x1b[") == std::string::npos);

    // Piped: no escape, nothing on stderr.
    test::RunOptions o;
    o.cwd = test::data_dir();
    o.env["HEAPWISE_PROGRESS_DELAY_MS"] = "0";
    o.unset = {"NO_COLOR"};
    const auto piped = test::run(argv, o);
    CHECK(piped.exited(0));
    CHECK(piped.err.empty());
    CHECK(piped.out.find("\x1b[") == std::string::npos);
}
