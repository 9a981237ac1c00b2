// Arming a PSI (pressure stall information) trigger on a memory.pressure file, so the monitor
// thread wakes as soon as the kernel sees memory stalls instead of at its next timed sample.
#pragma once

#include <string>
#include <string_view>

namespace heapwise::api {

// A parsed trigger: "some|full <stall us> <window us>".
struct PsiSpec {
    bool full = false;
    unsigned long stall_us = 0;
    unsigned long window_us = 0;
};
// False (with a reason in *why) unless the text is a trigger the kernel could accept:
// stall > 0, stall <= window, window within 500 ms .. 10 s.
bool parse_psi_trigger(std::string_view text, PsiSpec& out, std::string* why);

struct PsiTrigger {
    int fd = -1;          // armed: poll it for POLLPRI; -1 when no trigger could be armed
    std::string detail;   // "PATH 'TRIGGER'" when armed, else why not (every path tried)
};

// Tries `path` (or, when empty, this cgroup's memory.pressure then /proc/pressure/memory).
// Where the kernel refuses the trigger as written (unprivileged writers may only use windows
// that are multiples of 2 s), it retries once with the window rounded up to 2 s multiples and
// the stall scaled to match. The caller owns the fd.
PsiTrigger arm_psi(const std::string& path, const PsiSpec& spec);

}  // namespace heapwise::api
