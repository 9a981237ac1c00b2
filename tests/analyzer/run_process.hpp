// Runs real processes for the CLI tests: argv with extra environment variables, a working
// directory and stdin, stdout and stderr captured through files in a temp dir. Also a started
// process that a test can signal before waiting for it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace heapwise::test {

struct RunOptions {
    std::map<std::string, std::string> env;  // added to (or replacing in) this process's env
    std::vector<std::string> unset;          // removed from the env
    std::filesystem::path cwd;               // empty: this process's
    std::filesystem::path stdin_path;        // empty: /dev/null
};

struct RunResult {
    int status = 0;  // waitpid status
    std::string out;
    std::string err;
    bool exited(int code) const;
    bool signaled(int sig) const;
    std::vector<std::string> err_lines() const;
};

class Process {
public:
    Process(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    pid_t pid() const noexcept { return pid_; }
    bool running();  // true while it has not exited
    RunResult wait();

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::filesystem::path dir_;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Environment variables the meson test sets: the heapwise binary, the stand-in preload.
std::string heapwise_exe();
std::string env_or_fail(const char* name);

// Polls until path exists or timeout_ms passes.
bool wait_for_file(const std::filesystem::path& path, int timeout_ms = 10000);

}  // namespace heapwise::test
