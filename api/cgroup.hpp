// Internal cgroup helpers shared by the monitor (cgroup.cpp).
#pragma once

#include <string>
#include <string_view>

namespace heapwise::api {

// This process's cgroup v2 directory (under root), even on a hybrid host where the memory
// controller is on v1: its memory.pressure still reports the cgroup's stalls. "" if none.
std::string cgroup_v2_dir(std::string_view root);

}  // namespace heapwise::api
