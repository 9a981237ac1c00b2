// Running the traced program like a shell would: fork and exec with the original descriptors
// and signal dispositions; wait while ignoring the terminal's SIGINT/SIGQUIT (the child gets
// them) and forwarding SIGTERM/SIGHUP; then end with the child's exit status or its signal.
// An exec failure travels back through a close-on-exec pipe as an errno.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "record.hpp"

namespace heapwise::cli {

namespace {

constexpr int kForwarded[] = {SIGTERM, SIGHUP};
constexpr int kIgnored[] = {SIGINT, SIGQUIT};

}  // namespace

// Waiting is synchronous: SIGCHLD, SIGTERM and SIGHUP stay blocked and are taken with
// sigwaitinfo, so no handler runs at all (handlers in a process blocked in waitpid are also
// what sanitizer runtimes defer indefinitely).
ChildOutcome run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return ChildOutcome{-1, errno, 0};

    // Dispositions are set before fork so no signal finds a gap; the child restores the
    // originals (an ignored SIGINT would otherwise survive exec) and the original mask.
    struct sigaction saved[NSIG] = {};
    sigset_t waited, old_mask;
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    for (int s : kForwarded) sigaddset(&waited, s);
    ::sigprocmask(SIG_BLOCK, &waited, &old_mask);
    struct sigaction ignore = {}, dfl = {};
    ignore.sa_handler = SIG_IGN;
    dfl.sa_handler = SIG_DFL;
    for (int s : kIgnored) ::sigaction(s, &ignore, &saved[s]);
    ::sigaction(SIGCHLD, &dfl, &saved[SIGCHLD]);  // SIG_IGN would make the kernel reap it for us

    ChildOutcome out;
    out.pid = ::fork();
    if (out.pid == 0) {
        for (int s : kIgnored) ::sigaction(s, &saved[s], nullptr);
        ::sigaction(SIGCHLD, &saved[SIGCHLD], nullptr);
        ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
        ::close(pipefd[0]);
        ::execvpe(args[0], args.data(), envp.data());
        const int err = errno;
        while (::write(pipefd[1], &err, sizeof(err)) < 0 && errno == EINTR) {
        }
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(pipefd[1]);

    if (out.pid < 0) {
        out.exec_errno = fork_errno;
    } else {
        int err = 0;
        ssize_t n;
        while ((n = ::read(pipefd[0], &err, sizeof(err))) < 0 && errno == EINTR) {
        }
        if (n == static_cast<ssize_t>(sizeof(err))) out.exec_errno = err;
        for (;;) {
            const pid_t r = ::waitpid(out.pid, &out.status, WNOHANG);
            if (r == out.pid || (r < 0 && errno != EINTR)) break;
            siginfo_t info{};
            const int sig = ::sigwaitinfo(&waited, &info);
            if (sig == SIGTERM || sig == SIGHUP) ::kill(out.pid, sig);
        }
    }
    ::close(pipefd[0]);
    for (int s : kIgnored) ::sigaction(s, &saved[s], nullptr);
    ::sigaction(SIGCHLD, &saved[SIGCHLD], nullptr);
    // Drop what is still pending of the waited signals before unblocking them: a forwarded
    // SIGTERM has done its work, and must not now kill us before we report.
    const struct timespec zero = {0, 0};
    while (::sigtimedwait(&waited, nullptr, &zero) > 0) {
    }
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    return out;
}

void exit_like(int wait_status) {
    if (WIFEXITED(wait_status)) std::exit(WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        const int sig = WTERMSIG(wait_status);
        std::fflush(nullptr);
        const struct rlimit no_core = {0, 0};  // the child's crash is the news, not ours
        ::setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction dfl = {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(sig, &dfl, nullptr);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::raise(sig);
        std::_Exit(128 + sig);  // a signal whose default action is not to terminate
    }
    std::exit(1);
}

}  // namespace heapwise::cli
