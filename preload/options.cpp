// Parsing of the HEAPWISE_* variables (see options.hpp and docs/tracer.md). Runs in the shim's
// constructor before anything else exists: no allocation, no stdio, no locale.
#include "options.hpp"

#include <signal.h>

#include <cstring>
#include <string_view>

#include "heapwise/tracer_env.hpp"

namespace heapwise::preload {
namespace {

bool eq(const char* a, const char* b) noexcept { return std::strcmp(a, b) == 0; }

void set_error(OptionError& err, const char* name, const char* value, const char* expected) noexcept {
    std::size_t n = 0;
    auto put = [&](const char* s) {
        while (*s != '\0' && n + 1 < sizeof(err.message)) err.message[n++] = *s++;
    };
    put(name);
    put("=");
    put(value);
    put(": ");
    put(expected);
    err.message[n] = '\0';
}

// Splits "123unit" into a number and its suffix.
bool split_number(const char* s, std::uint64_t& num, const char*& suffix) noexcept {
    if (s == nullptr || *s < '0' || *s > '9') return false;
    std::uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        const std::uint64_t d = static_cast<std::uint64_t>(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
        ++s;
    }
    num = v;
    suffix = s;
    return true;
}

bool mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
    return !__builtin_mul_overflow(a, b, &out);
}

struct NamedSignal {
    const char* name;
    int number;
};
constexpr NamedSignal kSignals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                                    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
                                    {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
                                    {"CONT", SIGCONT}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
                                    {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"WINCH", SIGWINCH},
                                    {"PROF", SIGPROF}, {"VTALRM", SIGVTALRM}, {"IO", SIGIO},
                                    {"PWR", SIGPWR},   {"SYS", SIGSYS}};

}  // namespace

bool parse_uint(const char* s, std::uint64_t& out) noexcept {
    const char* rest = nullptr;
    return split_number(s, out, rest) && *rest == '\0';
}

bool parse_bytes(const char* s, std::uint64_t& out) noexcept {
    std::uint64_t v = 0;
    const char* u = nullptr;
    if (!split_number(s, v, u)) return false;
    std::uint64_t m = 0;
    if (eq(u, "") || eq(u, "B")) m = 1;
    else if (eq(u, "K") || eq(u, "k") || eq(u, "KiB") || eq(u, "KB")) m = 1ull << 10;
    else if (eq(u, "M") || eq(u, "MiB") || eq(u, "MB")) m = 1ull << 20;
    else if (eq(u, "G") || eq(u, "GiB") || eq(u, "GB")) m = 1ull << 30;
    else return false;
    return mul(v, m, out);
}

bool parse_duration(const char* s, std::uint64_t& ns) noexcept {
    std::uint64_t v = 0;
    const char* u = nullptr;
    if (!split_number(s, v, u)) return false;
    std::uint64_t m = 0;
    if (eq(u, "ns")) m = 1;
    else if (eq(u, "us")) m = 1'000;
    else if (eq(u, "ms")) m = 1'000'000;
    else if (eq(u, "s")) m = 1'000'000'000ull;
    else if (eq(u, "m") || eq(u, "min")) m = 60'000'000'000ull;
    else if (eq(u, "h")) m = 3'600'000'000'000ull;
    else if (eq(u, "") && v == 0) m = 1;  // a bare 0 means off
    else return false;
    return mul(v, m, ns);
}

bool parse_signal(const char* s, int& sig) noexcept {
    if (s == nullptr) return false;
    if (eq(s, "") || eq(s, "0") || eq(s, "off")) {
        sig = 0;
        return true;
    }
    std::uint64_t n = 0;
    if (parse_uint(s, n)) {
        if (n < 1 || n > static_cast<std::uint64_t>(SIGRTMAX) || n == SIGKILL || n == SIGSTOP) return false;
        sig = static_cast<int>(n);
        return true;
    }
    const char* name = std::strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (const auto& ns : kSignals) {
        if (eq(name, ns.name)) {
            sig = ns.number;
            return true;
        }
    }
    return false;
}

bool parse_options(EnvLookup lookup, void* ctx, Options& o, OptionError& err) noexcept {
    o = Options{};
    const char* v = nullptr;
    std::uint64_t n = 0;

    if ((v = lookup(env::kOutput, ctx)) != nullptr) {
        const std::size_t len = std::strlen(v);
        if (len == 0 || len >= sizeof(o.output)) {
            set_error(err, env::kOutput, v, "expected a file path (at most 1023 bytes)");
            return false;
        }
        std::memcpy(o.output, v, len + 1);
        char probe[4096];
        if (!expand_output_path(o.output, 1, "x", false, probe, sizeof(probe), err)) return false;
    }
    if ((v = lookup(env::kDepth, ctx)) != nullptr) {
        if (!parse_uint(v, n) || n < 1 || n > format::kMaxStackDepth) {
            set_error(err, env::kDepth, v, "expected a number of frames from 1 to 1024");
            return false;
        }
        o.depth = static_cast<std::uint32_t>(n);
    }
    if ((v = lookup(env::kUnwind, ctx)) != nullptr) {
        if (eq(v, "libunwind")) o.unwinder = format::Unwinder::kLibunwind;
        else if (eq(v, "fp")) o.unwinder = format::Unwinder::kFramePointer;
        else if (eq(v, "cached")) o.unwinder = format::Unwinder::kLibunwindCached;
        else {
            set_error(err, env::kUnwind, v, "expected libunwind, fp or cached");
            return false;
        }
    }
    if ((v = lookup(env::kMode, ctx)) != nullptr) {
        if (eq(v, "lossless")) o.mode = format::Mode::kLossless;
        else if (eq(v, "lossy")) o.mode = format::Mode::kLossy;
        else if (eq(v, "sampled")) o.mode = format::Mode::kSampled;
        else {
            set_error(err, env::kMode, v, "expected lossless, lossy or sampled");
            return false;
        }
    }
    if ((v = lookup(env::kSampleInterval, ctx)) != nullptr) {
        if (!parse_bytes(v, n) || n == 0 || n > (1ull << 40)) {
            set_error(err, env::kSampleInterval, v, "expected a size in bytes such as 512KiB");
            return false;
        }
        o.sample_interval = n;
    }
    if ((v = lookup(env::kFollowExec, ctx)) != nullptr) {
        if (eq(v, "1")) o.follow_exec = true;
        else if (eq(v, "0")) o.follow_exec = false;
        else {
            set_error(err, env::kFollowExec, v, "expected 1 or 0");
            return false;
        }
    }
    if ((v = lookup(env::kFork, ctx)) != nullptr) {
        if (eq(v, "trace")) o.fork = ForkMode::kTrace;
        else if (eq(v, "stop")) o.fork = ForkMode::kStop;
        else {
            set_error(err, env::kFork, v, "expected trace or stop");
            return false;
        }
    }
    if ((v = lookup(env::kSnapshotSignal, ctx)) != nullptr && !parse_signal(v, o.snapshot_signal)) {
        set_error(err, env::kSnapshotSignal, v, "expected a signal name such as USR2, a number, or off");
        return false;
    }
    if ((v = lookup(env::kSnapshotEvery, ctx)) != nullptr) {
        if (eq(v, "off")) n = 0;
        else if (!parse_duration(v, n) || (n != 0 && n < 1'000'000)) {
            set_error(err, env::kSnapshotEvery, v, "expected a duration of at least 1ms such as 10s, or off");
            return false;
        }
        o.snapshot_every_ns = n;
    }
    if ((v = lookup(env::kRssInterval, ctx)) != nullptr) {
        if (eq(v, "off")) n = 0;
        else if (!parse_duration(v, n) || (n != 0 && n < 1'000'000)) {
            set_error(err, env::kRssInterval, v, "expected a duration of at least 1ms such as 100ms, or off");
            return false;
        }
        o.rss_interval_ns = n;
    }
    if ((v = lookup(env::kFlushInterval, ctx)) != nullptr) {
        if (!parse_duration(v, n) || n < 1'000'000 || n > 1'000'000'000ull) {
            set_error(err, env::kFlushInterval, v, "expected a duration from 1ms to 1s");
            return false;
        }
        o.flush_interval_ns = n;
    }
    if ((v = lookup(env::kRingSize, ctx)) != nullptr) {
        if (!parse_uint(v, n) || n < 256 || n > (1u << 24) || (n & (n - 1)) != 0) {
            set_error(err, env::kRingSize, v, "expected a power of two from 256 to 16777216");
            return false;
        }
        o.ring_size = static_cast<std::uint32_t>(n);
    }
    if ((v = lookup(env::kCompression, ctx)) != nullptr) {
        if (!env::parse_compression(v, o.compression)) {
            set_error(err, env::kCompression, v, env::kCompressionExpected);
            return false;
        }
    }
    if ((v = lookup(env::kLive, ctx)) != nullptr) {
        if (eq(v, "1")) o.live = true;
        else if (eq(v, "0")) o.live = false;
        else {
            set_error(err, env::kLive, v, "expected 1 or 0");
            return false;
        }
    }
    return true;
}

namespace {
struct Out {
    char* buf;
    std::size_t cap;
    std::size_t n = 0;
    bool ok = true;
    void put(std::string_view s) noexcept {
        if (n + s.size() >= cap) {
            ok = false;
            return;
        }
        std::memcpy(buf + n, s.data(), s.size());
        n += s.size();
        buf[n] = '\0';
    }
    void put_uint(std::uint64_t v) noexcept {
        char tmp[24];
        int i = sizeof(tmp);
        do {
            tmp[--i] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        put(std::string_view(tmp + i, sizeof(tmp) - static_cast<std::size_t>(i)));
    }
};
}  // namespace

std::size_t describe_options(const Options& o, char* buf, std::size_t cap) noexcept {
    if (cap == 0) return 0;
    buf[0] = '\0';
    Out out{buf, cap};
    auto line = [&](const char* name, std::string_view v) {
        out.put(name);
        out.put("=");
        out.put(v);
        out.put("\n");
    };
    auto line_n = [&](const char* name, std::uint64_t v, std::string_view unit) {
        out.put(name);
        out.put("=");
        out.put_uint(v);
        out.put(unit);
        out.put("\n");
    };
    line(env::kOutput, o.output);
    line_n(env::kDepth, o.depth, "");
    line(env::kUnwind, o.unwinder == format::Unwinder::kFramePointer    ? "fp"
                       : o.unwinder == format::Unwinder::kLibunwindCached ? "cached"
                                                                           : "libunwind");
    line(env::kMode, o.mode == format::Mode::kLossy     ? "lossy"
                     : o.mode == format::Mode::kSampled ? "sampled"
                                                        : "lossless");
    if (o.mode == format::Mode::kSampled) line_n(env::kSampleInterval, o.sample_interval, "");
    line(env::kFollowExec, o.follow_exec ? "1" : "0");
    line(env::kFork, o.fork == ForkMode::kTrace ? "trace" : "stop");
    line_n(env::kSnapshotSignal, static_cast<std::uint64_t>(o.snapshot_signal), "");
    line_n(env::kSnapshotEvery, o.snapshot_every_ns / 1'000'000, "ms");
    line_n(env::kRssInterval, o.rss_interval_ns / 1'000'000, "ms");
    line_n(env::kFlushInterval, o.flush_interval_ns / 1'000'000, "ms");
    line_n(env::kRingSize, o.ring_size, "");
    if (o.compression.codec == format::BlockFlags::kZstd) {
        out.put(env::kCompression);
        out.put("=zstd:");
        out.put_uint(static_cast<std::uint64_t>(o.compression.level));
        out.put("\n");
    } else {
        line(env::kCompression, o.compression.codec == format::BlockFlags::kLz4 ? "lz4" : "none");
    }
    line(env::kLive, o.live ? "1" : "0");
    return out.n;
}

bool pattern_has_pid(const char* p) noexcept {
    for (; *p != '\0'; ++p) {
        if (*p == '%') {
            if (p[1] == 'p') return true;
            if (p[1] == '\0') return false;
            ++p;
        }
    }
    return false;
}

bool expand_output_path(const char* pattern, int pid, const char* exe_name, bool add_pid_suffix,
                        char* buf, std::size_t cap, OptionError& err) noexcept {
    Out out{buf, cap};
    if (cap > 0) buf[0] = '\0';
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t ext_at = kNone;    // output offset of the last '.' of the last path component
    std::size_t comp_start = 0;    // output offset where that component starts
    for (const char* p = pattern; *p != '\0'; ++p) {
        if (*p != '%') {
            if (*p == '/') {
                ext_at = kNone;
                comp_start = out.n + 1;
            }
            if (*p == '.' && out.n != comp_start) ext_at = out.n;
            out.put(std::string_view(p, 1));
            continue;
        }
        ++p;
        if (*p == 'p') {
            out.put_uint(static_cast<std::uint64_t>(pid));
        } else if (*p == 'e') {
            out.put(exe_name);
        } else if (*p == '%') {
            out.put("%");
        } else {
            set_error(err, env::kOutput, pattern, "unknown %-sequence (use %p, %e or %%)");
            return false;
        }
    }
    if (add_pid_suffix && !pattern_has_pid(pattern) && out.ok) {
        char tail[1024];
        const std::size_t at = ext_at == kNone ? out.n : ext_at;
        const std::size_t tail_len = out.n - at;
        if (tail_len >= sizeof(tail)) {
            out.ok = false;
        } else {
            std::memcpy(tail, buf + at, tail_len);
            out.n = at;
            out.put(".");
            out.put_uint(static_cast<std::uint64_t>(pid));
            out.put(std::string_view(tail, tail_len));
        }
    }
    if (!out.ok) {
        set_error(err, env::kOutput, pattern, "the output path is too long");
        return false;
    }
    return true;
}

}  // namespace heapwise::preload
