// The timeline as CSV (docs/timeline.md): one header line, then heap and RSS rows merged in time
// order. Integers are exact and times are exact nanoseconds, so scripts and tests can compare
// rows with the trace itself.
#include <fmt/format.h>

#include <iterator>
#include <optional>

#include "analyzer/timeline/timeline.hpp"

namespace heapwise::analyzer {

std::string timeline_csv(const Timeline& t) {
    std::string out = "time_s,heap_bytes,rss_bytes\n";
    auto row = [&out](std::uint64_t time_ns, std::uint64_t heap, std::optional<std::uint64_t> rss) {
        fmt::format_to(std::back_inserter(out), "{}.{:09},{},", time_ns / 1'000'000'000,
                       time_ns % 1'000'000'000, heap);
        if (rss) fmt::format_to(std::back_inserter(out), "{}", *rss);
        out += '\n';
    };
    std::optional<std::uint64_t> last_rss;
    std::size_t h = 0;
    std::size_t r = 0;
    while (h < t.heap.size() || r < t.rss.size()) {
        // An RSS row goes first on equal times, so the heap row after it carries that sample.
        if (r < t.rss.size() && (h == t.heap.size() || t.rss[r].time_ns <= t.heap[h].time_ns)) {
            last_rss = t.rss[r].rss_bytes;
            row(t.rss[r].time_ns, t.rss[r].heap_bytes, last_rss);
            ++r;
        } else {
            row(t.heap[h].time_ns, t.heap[h].heap_bytes, last_rss);
            ++h;
        }
    }
    return out;
}

}  // namespace heapwise::analyzer
