// Planted leaks and growth in C++ for tests/leaks: a std::vector and a std::map that grow across
// four heapwise_snapshot() markers and are freed only when main returns (growth, not leaks at
// exit), a new[] that leaks one block per phase, a std::string buffer freed at once, and one
// class instance leaked through new. Sites the tests name end in a LEAK-SITE comment; the tests
// find their lines in this file at run time. Prints the one size the tests cannot know from the
// source: a std::map node's (libstdc++'s _Rb_tree_node), as "map_node_bytes N". Deterministic.
// libstdc++ itself allocates its exception emergency pool at start-up and never frees it.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <map>
#include <string>
#include <vector>

#include "heapwise/heapwise.h"

namespace {

struct Session {
    char name[200];
    std::uint64_t ids[25];
};

char* volatile g_kept[4];
Session* volatile g_session;

__attribute__((noinline)) void leak_array(int phase) {
    g_kept[phase] = new char[1234];  // LEAK-SITE:array
    std::memset(g_kept[phase], phase, 1234);
}

__attribute__((noinline)) void leak_object() {
    g_session = new Session{};  // LEAK-SITE:object
}

__attribute__((noinline)) std::size_t temporary_string(int phase) {
    std::string s(5000, static_cast<char>('a' + phase));  // LEAK-SITE:string
    return s.size();
}

__attribute__((noinline)) void grow_vector(std::vector<std::uint64_t>& v, std::size_t to) {
    while (v.size() < to) v.push_back(v.size());  // LEAK-SITE:vector
}

__attribute__((noinline)) void grow_map(std::map<int, std::uint64_t>& m, int phase) {
    for (int i = 0; i < 100; ++i) m.emplace(phase * 100 + i, static_cast<std::uint64_t>(i));  // LEAK-SITE:map
}

}  // namespace

int main() {
    static const char* const kLabels[] = {"phase-1", "phase-2", "phase-3", "phase-4"};
    // snprintf and write(2), not stdio's stdout: its buffer would be one more allocation.
    char line[64];
    const int n = std::snprintf(line, sizeof line, "map_node_bytes %zu\n",
                                sizeof(std::_Rb_tree_node<std::pair<const int, std::uint64_t>>));
    if (n <= 0 || ::write(1, line, static_cast<std::size_t>(n)) != n) return 2;
    std::vector<std::uint64_t> values;
    std::map<int, std::uint64_t> index;
    std::size_t total = 0;
    leak_object();
    for (int phase = 0; phase < 4; ++phase) {
        // 1000, 2000, 4000, 8000 elements: capacity 1024, 2048, 4096, 8192, one block each time.
        grow_vector(values, std::size_t{1000} << phase);
        grow_map(index, phase);
        leak_array(phase);
        total += temporary_string(phase);
        heapwise_snapshot(kLabels[phase]);
    }
    return total == 20000 ? 0 : 1;
}
