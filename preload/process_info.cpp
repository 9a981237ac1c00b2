// The ProcessInfo record: who this process is (pid, executable, cwd, argv from /proc/self/cmdline)
// and how it is traced (options, clock, unwinder). Built with stack buffers and /proc reads only.
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "encoder.hpp"
#include "state.hpp"
#include "sys.hpp"

namespace heapwise::preload {

void encode_process_info(BlockEncoder& enc, std::uint64_t tick_ns) noexcept {
    char exe[4096];
    const ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char cwd[4096];
    const long cwd_len = getcwd(cwd, sizeof(cwd)) != nullptr ? static_cast<long>(std::strlen(cwd)) : 0;
    static char cmdline[65536];  // writer thread and start() only, serialized by the lifecycle lock
    long n = sys::read_file("/proc/self/cmdline", cmdline, sizeof(cmdline));
    if (n < 0) n = 0;
    constexpr int kMaxArgs = 1024;
    std::string_view args[kMaxArgs];
    int argc = 0;
    for (long i = 0; i < n && argc < kMaxArgs;) {
        const long start = i;
        while (i < n && cmdline[i] != '\0') ++i;
        args[argc++] = std::string_view(cmdline + start, static_cast<std::size_t>(i - start));
        ++i;
    }
    char options[2048];
    const std::size_t options_len = describe_options(g.options, options, sizeof(options));

    ProcessInfoRecord r;
    r.pid = static_cast<std::uint64_t>(g.pid);
    r.ppid = static_cast<std::uint64_t>(sys::getppid());
    r.start_unix_ns = g.start_unix_ns;
    r.start_monotonic_ns = g.start_ns;
    r.tick_ns = tick_ns;
    r.mode = g.options.mode;
    r.sample_interval = g.options.mode == format::Mode::kSampled ? g.options.sample_interval : 0;
    r.unwinder = g.options.unwinder;
    r.max_depth = g.options.depth;
    r.exe = std::string_view(exe, exe_len > 0 ? static_cast<std::size_t>(exe_len) : 0);
    r.cwd = std::string_view(cwd, static_cast<std::size_t>(cwd_len));
    r.argv = std::span<const std::string_view>(args, static_cast<std::size_t>(argc));
    r.options = std::string_view(options, options_len);
    enc.process_info(r);
}

}  // namespace heapwise::preload
