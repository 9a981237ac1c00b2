// The text forms users of Python's tracemalloc already read: StatisticDiff.__str__ and
// _format_size (CPython Lib/tracemalloc.py), reproduced digit for digit: sizes under 100 of a
// unit get one decimal, under 10 * 1024 none, B never a decimal; TiB is the last unit.
#include <cmath>
#include <cstdio>
#include <ostream>

#include "heapwise/leak_detector.hpp"

namespace heapwise {

std::string format_size(double bytes, bool sign) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    char buf[64];
    double size = bytes;
    for (const char* unit : kUnits) {
        const bool last = unit == kUnits[4];
        if (std::fabs(size) < 100 && unit != kUnits[0]) {
            std::snprintf(buf, sizeof buf, sign ? "%+.1f %s" : "%.1f %s", size, unit);
            return buf;
        }
        if (std::fabs(size) < 10 * 1024 || last) {
            std::snprintf(buf, sizeof buf, sign ? "%+.0f %s" : "%.0f %s", size, unit);
            return buf;
        }
        size /= 1024;
    }
    return {};  // not reached: TiB always returns
}

std::string to_string(const StatisticDiff& row) {
    std::string text = row.key + ": size=" + format_size(static_cast<double>(row.size), false);
    if (row.has_diff) text += " (" + format_size(static_cast<double>(row.size_diff), true) + ")";
    text += ", count=" + std::to_string(row.count);
    if (row.has_diff) text += (row.count_diff >= 0 ? " (+" : " (") + std::to_string(row.count_diff) + ")";
    if (row.count != 0) {
        text += ", average=" +
                format_size(static_cast<double>(row.size) / static_cast<double>(row.count), false);
    }
    return text;
}

std::ostream& operator<<(std::ostream& out, const StatisticDiff& row) {
    return out << to_string(row);
}

std::string_view to_string(By by) noexcept {
    switch (by) {
        case By::lineno: return "lineno";
        case By::function: return "function";
        case By::file: return "file";
        case By::module: return "module";
        case By::traceback: return "traceback";
    }
    return "?";
}

By parse_by(std::string_view text) {
    for (By by : {By::lineno, By::function, By::file, By::module, By::traceback}) {
        if (text == to_string(by)) return by;
    }
    throw DetectorError(DetectorError::Code::bad_argument,
                        "heapwise::LeakDetector: unknown grouping key '" + std::string(text) +
                            "' (expected lineno, function, file, module or traceback)");
}

}  // namespace heapwise
