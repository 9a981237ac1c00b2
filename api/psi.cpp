// PSI trigger arming (see psi.hpp). The kernel interface: write "some 150000 1000000" to a
// pressure file opened read-write, then poll() the fd for POLLPRI; closing the fd disarms it.
#include "psi.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.hpp"

namespace heapwise::api {

namespace {

constexpr long kProcSuperMagic = 0x9fa0;
constexpr long kCgroup2SuperMagic = 0x63677270;

bool parse_ulong(std::string_view& s, unsigned long& out) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    unsigned long v = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        if (v > 100000000000UL) return false;
        v = v * 10 + static_cast<unsigned long>(s.front() - '0');
        s.remove_prefix(1);
    }
    out = v;
    return true;
}

std::string format(const PsiSpec& spec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %lu %lu", spec.full ? "full" : "some", spec.stall_us,
                  spec.window_us);
    return buf;
}

// One attempt: returns the armed fd, or -1 with the reason appended to why (and the write's
// errno in err when the kernel refused the trigger itself).
int try_arm(const std::string& path, const std::string& trigger, std::string& why, int& err) {
    err = 0;
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        why += path + ": " + std::strerror(errno);
        return -1;
    }
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0 ||
        (static_cast<long>(fs.f_type) != kProcSuperMagic &&
         static_cast<long>(fs.f_type) != kCgroup2SuperMagic)) {
        why += path + ": not a pressure file (neither procfs nor cgroup2)";
        ::close(fd);
        return -1;
    }
    if (::write(fd, trigger.c_str(), trigger.size() + 1) < 0) {
        err = errno;
        why += path + " '" + trigger + "': " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

bool parse_psi_trigger(std::string_view text, PsiSpec& out, std::string* why) {
    auto fail = [&](const char* msg) {
        if (why) *why = msg;
        return false;
    };
    PsiSpec spec;
    if (text.substr(0, 5) == "some ") spec.full = false;
    else if (text.substr(0, 5) == "full ") spec.full = true;
    else return fail("must start with 'some' or 'full'");
    text.remove_prefix(5);
    if (!parse_ulong(text, spec.stall_us) || !parse_ulong(text, spec.window_us))
        return fail("needs two numbers: stall and window in microseconds");
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
    if (!text.empty()) return fail("has trailing text");
    if (spec.window_us < 500000 || spec.window_us > 10000000)
        return fail("window must be 500000..10000000 us");
    if (spec.stall_us == 0 || spec.stall_us > spec.window_us)
        return fail("stall must be > 0 and <= window");
    out = spec;
    return true;
}

PsiTrigger arm_psi(const std::string& path, const PsiSpec& spec) {
    PsiTrigger result;
    std::string why;
    std::string candidates[2];
    if (!path.empty()) {
        candidates[0] = path;
    } else {
        std::string dir = cgroup_v2_dir("");
        if (!dir.empty()) candidates[0] = dir + "/memory.pressure";
        candidates[1] = "/proc/pressure/memory";
    }
    PsiSpec relaxed = spec;
    relaxed.window_us = (spec.window_us + 1999999) / 2000000 * 2000000;
    relaxed.stall_us = spec.stall_us * relaxed.window_us / spec.window_us;
    for (const std::string& c : candidates) {
        if (c.empty()) continue;
        if (!why.empty()) why += "; ";
        int err = 0;
        std::string trigger = format(spec);
        int fd = try_arm(c, trigger, why, err);
        if (fd < 0 && err == EINVAL && relaxed.window_us != spec.window_us) {
            why += "; ";
            trigger = format(relaxed);
            fd = try_arm(c, trigger, why, err);
        }
        if (fd >= 0) {
            result.fd = fd;
            result.detail = c + " '" + trigger + "'";
            return result;
        }
    }
    result.detail = why.empty() ? "no pressure file" : why;
    return result;
}

}  // namespace heapwise::api
