// Internals of `heapwise record`, split by concern: option checking and the child's environment
// (record.cpp), running and waiting for the child with the shell's signal conventions
// (record_child.cpp), and finding the traces the run wrote (record_traces.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace heapwise::cli {

// `heapwise record [options] PROGRAM ARGS...` without `--`: inserts `--` before PROGRAM so the
// program's own options are not taken for record's. args excludes argv[0].
std::vector<std::string> with_command_separator(std::vector<std::string> args);

// Absolute path of libheapwise_preload.so: $HEAPWISE_PRELOAD, else beside this executable in
// the build tree (<exe_dir>/../../preload/) or an install tree (<exe_dir>/../lib/**). Empty,
// with `error` set, when not found.
std::string find_preload(std::string& error);

struct ChildOutcome {
    pid_t pid = -1;
    int exec_errno = 0;  // non-zero: the program could not be executed
    int status = 0;      // waitpid status when it ran
};

// Runs argv[0] (searched in PATH) with env as its whole environment, the caller's stdin, stdout
// and stderr, and the caller's original signal dispositions. While waiting, SIGINT and SIGQUIT
// are ignored (the terminal sends them to the child too) and SIGTERM and SIGHUP are forwarded.
ChildOutcome run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// Ends this process the way the child ended: same exit code, or death by the same signal.
[[noreturn]] void exit_like(int wait_status);

// The one line record prints about the traces of this run, found from the output pattern
// (%p pid, %e executable name, %% a percent sign), the child's pid and the run's start time
// (CLOCK_REALTIME ns): the main trace (the child's last image), its events and size, and how
// many other processes of the run (forked or spawned descendants) wrote traces, and where.
std::string traces_line(const std::string& pattern, pid_t child, std::uint64_t started_unix_ns);

}  // namespace heapwise::cli
