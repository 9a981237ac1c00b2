// Human units. Doubles are formatted with {fmt}, which rounds half to even on the exact binary
// value, the same as Python's '%.1f' that tracemalloc uses.
#include "analyzer/report/units.hpp"

#include <array>
#include <cmath>
#include <fmt/format.h>

namespace heapwise::analyzer {
namespace {

std::string size_text(double size, bool sign) {
    static constexpr std::array<const char*, 5> kUnits{"B", "KiB", "MiB", "GiB", "TiB"};
    for (std::size_t i = 0; i < kUnits.size(); ++i) {
        const bool last = i + 1 == kUnits.size();
        if (std::fabs(size) < 100 && i != 0) {
            return sign ? fmt::format("{:+.1f} {}", size, kUnits[i]) : fmt::format("{:.1f} {}", size, kUnits[i]);
        }
        if (std::fabs(size) < 10 * 1024 || last) {
            return sign ? fmt::format("{:+.0f} {}", size, kUnits[i]) : fmt::format("{:.0f} {}", size, kUnits[i]);
        }
        size /= 1024;
    }
    return {};  // unreachable: the last unit always returns
}

}  // namespace

std::string format_size(double bytes) { return size_text(bytes, false); }
std::string format_size(std::uint64_t bytes) { return size_text(static_cast<double>(bytes), false); }
std::string format_size_diff(std::int64_t bytes) { return size_text(static_cast<double>(bytes), true); }

std::string format_signed(std::int64_t v) { return fmt::format("{:+d}", v); }

std::string group_digits(std::uint64_t v) {
    const std::string digits = std::to_string(v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string format_seconds(std::uint64_t ns) {
    return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
}

std::string format_rate(double bytes_per_second) {
    return (bytes_per_second >= 0 ? "+" : "") + size_text(bytes_per_second, false) + "/s";
}

}  // namespace heapwise::analyzer
