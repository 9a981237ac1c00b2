// Start-up from HEAPWISE_* (a malformed value: one line, program untraced), output file naming
// (HEAPWISE_ROOT_PID marks the first traced process of a tree when the pattern has no %p, so
// every other process adds .<pid>), HEAPWISE_FOLLOW_EXEC=0 (drop the shim from the LD_PRELOAD
// children inherit), the snapshot signal, fork handlers and the exit/exec/abort flushes.
#include "lifecycle.hpp"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cstring>

#include "check.hpp"
#include "heapwise/tracer_env.hpp"
#include "options.hpp"
#include "real.hpp"
#include "state.hpp"
#include "sys.hpp"
#include "tracer.hpp"

namespace heapwise::preload {

void lifecycle_lock_for_fork() noexcept;
void lifecycle_unlock_after_fork() noexcept;

namespace {

bool g_started = false;  // tracing was configured in this process (so a fork child may trace)

const char* env_lookup(const char* name, void*) { return getenv(name); }

void exe_basename(char* out, std::size_t cap) noexcept {
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        strncpy(out, "unknown", cap - 1);
        return;
    }
    exe[n] = '\0';
    const char* base = strrchr(exe, '/');
    base = base != nullptr ? base + 1 : exe;
    const std::size_t len = strnlen(base, cap - 1);
    std::memcpy(out, base, len);
    out[len] = '\0';
}

// The environment is edited through `environ` itself, never setenv/unsetenv: an executable may
// define its own (bash does, over its shell variables) and ignore calls made before its main.
char** find_env(const char* name) noexcept {
    const std::size_t len = std::strlen(name);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') return e;
    }
    return nullptr;
}

void add_env(const char* entry) noexcept {
    std::size_t n = 0;
    while (environ != nullptr && environ[n] != nullptr) ++n;
    auto** grown = static_cast<char**>(sys::map_pages((n + 2) * sizeof(char*)));  // kept for good
    if (grown == nullptr) return;
    for (std::size_t i = 0; i < n; ++i) grown[i] = environ[i];
    grown[n] = const_cast<char*>(entry);
    grown[n + 1] = nullptr;
    environ = grown;
}

bool is_root_process() noexcept {
    char** e = find_env(env::kRootPid);
    std::uint64_t pid = 0;
    if (e == nullptr || !parse_uint(*e + std::strlen(env::kRootPid) + 1, pid)) {
        static char entry[64];
        std::size_t n = std::strlen(env::kRootPid);
        std::memcpy(entry, env::kRootPid, n);
        entry[n++] = '=';
        char digits[16];
        int nd = 0;
        for (int p = sys::getpid(); p > 0 && nd < 15; p /= 10) digits[nd++] = static_cast<char>('0' + p % 10);
        while (nd > 0) entry[n++] = digits[--nd];
        entry[n] = '\0';
        if (e != nullptr) *e = entry;
        else add_env(entry);
        return true;
    }
    return static_cast<int>(pid) == sys::getpid();
}

// Removes every LD_PRELOAD entry naming this library, so exec'd children run untraced. The
// value only gets shorter, so it is rewritten in place.
void drop_shim_from_ld_preload() noexcept {
    char** e = find_env("LD_PRELOAD");
    if (e == nullptr) return;
    char* v = *e + std::strlen("LD_PRELOAD=");
    char out[8192];
    std::size_t n = 0;
    const char* p = v;
    while (*p != '\0') {
        while (*p == ' ' || *p == ':') ++p;
        const char* start = p;
        while (*p != '\0' && *p != ' ' && *p != ':') ++p;
        const std::size_t len = static_cast<std::size_t>(p - start);
        if (len == 0) continue;
        const std::string_view entry(start, len);
        if (entry.find("libheapwise_preload") != std::string_view::npos) continue;
        if (n + len + 2 >= sizeof(out)) break;
        if (n != 0) out[n++] = ':';
        std::memcpy(out + n, start, len);
        n += len;
    }
    if (n == 0) {  // nothing left: drop the variable
        while ((e[0] = e[1]) != nullptr) ++e;
        return;
    }
    std::memcpy(v, out, n);
    v[n] = '\0';
}

bool output_path(bool child, char* path, std::size_t cap) noexcept {
    char exe[256];
    exe_basename(exe, sizeof(exe));
    OptionError err;
    const bool add_pid = !pattern_has_pid(g.options.output) && (child || !is_root_process());
    if (!expand_output_path(g.options.output, sys::getpid(), exe, add_pid, path, cap, err)) {
        LogLine() << err.message << "; the program runs untraced";
        return false;
    }
    return true;
}

void on_snapshot_signal(int) { Tracer::snapshot_from_signal(); }

void fork_prepare() {
    ++tls_guard;
    lifecycle_lock_for_fork();
}

void fork_parent() {
    lifecycle_unlock_after_fork();
    --tls_guard;
}

void fork_child() {
    lifecycle_unlock_after_fork();
    if (g_started) {
        const bool was_recording = g.recording.exchange(0) != 0;
        writer_forget_in_child();
        threads_reset_in_child();
        if (was_recording && g.options.fork == ForkMode::kTrace) {
            char path[4096];
            if (output_path(true, path, sizeof(path))) Tracer::start(g.options, path);
        }
    }
    --tls_guard;
}

bool own_process() noexcept { return g_started && g.pid == sys::getpid(); }

}  // namespace

void before_exec() noexcept {
    if (own_process() && Tracer::active()) Tracer::stop(format::EndReason::kExec);
}

void after_failed_exec() noexcept {
    // The End record is written; this image keeps running untraced (see docs/tracer.md).
}

void before_exit() noexcept {
    if (own_process()) Tracer::stop(format::EndReason::kExit);
}

void before_abort() noexcept {
    if (own_process()) Tracer::stop(format::EndReason::kSignal);
}

[[gnu::constructor(101)]] void heapwise_preload_init() {
    ReentryGuard guard;
    if (!real_ready()) ensure_real_slow();
    Options o;
    OptionError err;
    if (!parse_options(env_lookup, nullptr, o, err)) {
        LogLine() << err.message << "; the program runs untraced";
        return;
    }
    g.options = o;
    if (!o.follow_exec) drop_shim_from_ld_preload();
    char path[4096];
    if (!output_path(false, path, sizeof(path))) return;
    g_started = true;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (!Tracer::start(o, path)) {
        g_started = false;
        return;
    }
    if (o.snapshot_signal != 0) {
        struct sigaction sa{};
        sa.sa_handler = on_snapshot_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(o.snapshot_signal, &sa, nullptr);
    }
}

[[gnu::destructor(101)]] void heapwise_preload_fini() {
    if (own_process()) Tracer::stop(format::EndReason::kExit);
}

}  // namespace heapwise::preload
