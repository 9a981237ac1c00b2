// Process running for the CLI tests: fork, set up the environment and descriptors, execvp.
#include "run_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace heapwise::test {

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

bool RunResult::exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
bool RunResult::signaled(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }

std::vector<std::string> RunResult::err_lines() const {
    std::vector<std::string> lines;
    std::stringstream ss(err);
    for (std::string line; std::getline(ss, line);) lines.push_back(line);
    return lines;
}

Process::Process(const std::vector<std::string>& argv, const RunOptions& options) {
    char tmpl[] = "/tmp/heapwise-run-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (eq != nullptr) env[std::string(*e, static_cast<std::size_t>(eq - *e))] = eq + 1;
    }
    for (const auto& [k, v] : options.env) env[k] = v;
    for (const auto& k : options.unset) env.erase(k);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    const std::string out = (dir_ / "out").string(), err = (dir_ / "err").string();
    const std::string in = options.stdin_path.empty() ? "/dev/null" : options.stdin_path.string();
    const std::string cwd = options.cwd.string();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int i = ::open(in.c_str(), O_RDONLY);
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i < 0 || o < 0 || e < 0) ::_exit(125);
        ::dup2(i, 0);
        ::dup2(o, 1);
        ::dup2(e, 2);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(125);
        ::execvpe(args[0], args.data(), envp.data());
        ::_exit(125);
    }
}

Process::~Process() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

bool Process::running() {
    if (reaped_) return false;
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) reaped_ = true;
    return !reaped_;
}

RunResult Process::wait() {
    if (!reaped_) {
        while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
    }
    RunResult r;
    r.status = status_;
    r.out = slurp(dir_ / "out");
    r.err = slurp(dir_ / "err");
    return r;
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    Process p(argv, options);
    return p.wait();
}

std::string env_or_fail(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set (run through meson test)");
    return v;
}

std::string heapwise_exe() { return env_or_fail("HEAPWISE_EXE"); }

bool wait_for_file(const std::filesystem::path& path, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (std::filesystem::exists(path)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::filesystem::exists(path);
}

}  // namespace heapwise::test
