// Process harness of the end-to-end tests: fork/exec with a clean environment, stdout/stderr into
// unlinked temp files (no pipe can fill up and block the child), a deadline after which the whole
// process group gets SIGKILL, temp dirs, and a local http.server for curl and wget.
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace heapwise::e2e {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

fs::path env_path(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set (run through meson test)");
    return v;
}

// The test's environment minus anything that would change how the child is traced.
std::vector<std::string> clean_environment(const Command& cmd) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view s(*e);
        if (s.starts_with("LD_PRELOAD=") || s.starts_with("HEAPWISE_") || s.starts_with("PYTHONMALLOC=") ||
            s.starts_with("HW_E2E_") || s.starts_with("MALLOC_PERTURB_=")) {
            continue;
        }
        const auto eq = s.find('=');
        const auto name = s.substr(0, eq);
        const bool overridden = std::any_of(cmd.env.begin(), cmd.env.end(),
                                            [&](const auto& kv) { return kv.first == name; });
        if (!overridden) env.emplace_back(s);
    }
    for (const auto& [k, v] : cmd.env) env.push_back(k + "=" + v);
    return env;
}

int capture_fd() {
    char name[] = "/tmp/hw-e2e-capture-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) fail("mkstemp");
    unlink(name);
    return fd;
}

std::string read_fd(int fd) {
    std::string s;
    char buf[65536];
    off_t off = 0;
    for (;;) {
        const ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n <= 0) break;
        s.append(buf, static_cast<std::size_t>(n));
        off += n;
    }
    return s;
}

}  // namespace

const Paths& Paths::get() {
    static const Paths paths = [] {
        Paths p;
        p.preload = fs::absolute(env_path("HW_E2E_PRELOAD"));
        p.cli = fs::absolute(env_path("HW_E2E_CLI"));
        p.programs = fs::absolute(env_path("HW_E2E_PROGRAMS"));
        p.scripts = fs::absolute(env_path("HW_E2E_SCRIPTS"));
        p.dlib = fs::absolute(env_path("HW_E2E_DLIB"));
        return p;
    }();
    return paths;
}

std::string Outcome::describe() const {
    std::ostringstream s;
    s << "pid " << pid << ": ";
    if (timed_out) s << "TIMED OUT";
    else if (term_signal != 0) s << "killed by signal " << term_signal;
    else s << "exit " << exit_code;
    s << "\n--- stdout (" << out.size() << " bytes) ---\n" << out.substr(0, 2000)
      << "\n--- stderr (" << err.size() << " bytes) ---\n" << err.substr(0, 2000);
    return s.str();
}

Process::Process(const Command& cmd) {
    if (cmd.argv.empty()) throw std::invalid_argument("empty command");
    out_fd_ = capture_fd();
    err_fd_ = capture_fd();
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    const std::vector<std::string> env = clean_environment(cmd);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string cwd = cmd.cwd.string();
    const std::string in = cmd.stdin_file.empty() ? std::string("/dev/null") : cmd.stdin_file.string();

    deadline_ = std::chrono::steady_clock::now() + cmd.timeout;
    pid_ = fork();
    if (pid_ < 0) fail("fork");
    if (pid_ == 0) {
        setpgid(0, 0);  // one group per run, so a timeout kills the run's descendants too
        const int in_fd = open(in.c_str(), O_RDONLY);
        if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd_, 1) < 0 || dup2(err_fd_, 2) < 0) _exit(126);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    setpgid(pid_, pid_);
}

Process::~Process() {
    if (pid_ > 0) {
        kill(-pid_, SIGKILL);  // the run's group: the process and whatever it left behind
        if (!reaped_) waitpid(pid_, &status_, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
}

std::string Process::stdout_so_far() const { return read_fd(out_fd_); }

void Process::signal(int sig) const { kill(pid_, sig); }

bool Process::reap(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!reaped_) {
        const pid_t r = waitpid(pid_, &status_, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            break;
        }
        if (r < 0 && errno != EINTR) fail("waitpid");
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

bool Process::wait_for_stdout(std::string_view needle, std::chrono::milliseconds limit) {
    const auto until = std::min(deadline_, std::chrono::steady_clock::now() + limit);
    for (;;) {
        if (stdout_so_far().find(needle) != std::string::npos) return true;
        if (reaped_ || std::chrono::steady_clock::now() >= until) return false;
        reap(5ms);
    }
}

Outcome Process::wait() {
    const auto now = std::chrono::steady_clock::now();
    const auto left = deadline_ > now ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now)
                                      : 0ms;
    if (!reap(left)) {
        timed_out_ = true;
        kill(-pid_, SIGKILL);
        reap(10s);
    }
    kill(-pid_, SIGKILL);  // descendants that outlived the process (none expected)
    Outcome o;
    o.pid = pid_;
    o.timed_out = timed_out_;
    if (WIFEXITED(status_)) o.exit_code = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) o.term_signal = WTERMSIG(status_);
    o.out = read_fd(out_fd_);
    o.err = read_fd(err_fd_);
    return o;
}

Outcome run(const Command& cmd) {
    Process p(cmd);
    return p.wait();
}

Command traced(Command cmd, const fs::path& dir) {
    cmd.env.emplace_back("LD_PRELOAD", Paths::get().preload.string());
    cmd.env.emplace_back("HEAPWISE_OUTPUT", (dir / "%e.%p.hwt").string());
    return cmd;
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hw-e2e-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) fail("mkdtemp");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::vector<fs::path> traces_in(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".hwt") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void write_file(const fs::path& path, std::string_view content) {
    std::ofstream f(path, std::ios::binary);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!f) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

namespace {

int free_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) fail("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        close(s);
        fail("bind 127.0.0.1:0");
    }
    close(s);
    return ntohs(a.sin_port);
}

bool accepts(int port) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    return ok;
}

}  // namespace

HttpServer::HttpServer(const fs::path& root) {
    // The port is free when chosen but may be taken before the server binds it: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        const std::string port = std::to_string(port_);
        const std::string dir = root.string();
        pid_ = fork();
        if (pid_ < 0) fail("fork");
        if (pid_ == 0) {
            const int null_fd = open("/dev/null", O_RDWR);
            dup2(null_fd, 0);
            dup2(null_fd, 1);
            dup2(null_fd, 2);
            unsetenv("LD_PRELOAD");
            execl("/usr/bin/python3", "python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                  dir.c_str(), port.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        const auto until = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < until) {
            if (accepts(port_)) return;
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;  // exited: port taken, try another
            }
            std::this_thread::sleep_for(20ms);
        }
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    throw std::runtime_error("python3 -m http.server did not start on 127.0.0.1");
}

HttpServer::~HttpServer() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 250 && waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
        if (waitpid(pid_, &status, WNOHANG) == 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
        }
    }
}

std::string HttpServer::url(std::string_view file) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + std::string(file);
}

}  // namespace heapwise::e2e
