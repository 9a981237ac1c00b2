// Units and error lines for the heapwise command.
#include "cli_common.hpp"

#include <cstdio>
#include <limits>

namespace heapwise::cli {

void error_line(std::string_view message) {
    std::fputs(fmt::format("heapwise: {}\n", message).c_str(), stderr);
}

namespace {

// Splits "123unit" into the number and the unit; nullopt if there is no leading number or it
// overflows.
std::optional<std::pair<std::uint64_t, std::string_view>> number_and_unit(std::string_view text) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        v = v * 10 + digit;
    }
    if (i == 0) return std::nullopt;
    return std::pair{v, text.substr(i)};
}

std::optional<std::uint64_t> scaled(std::uint64_t v, std::uint64_t unit) {
    if (unit != 0 && v > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
    return v * unit;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    const auto nu = number_and_unit(text);
    if (!nu) return std::nullopt;
    const auto [v, unit] = *nu;
    if (unit.empty() || unit == "B") return v;
    if (unit == "KiB" || unit == "K" || unit == "k" || unit == "KB") return scaled(v, 1ull << 10);
    if (unit == "MiB" || unit == "M" || unit == "MB") return scaled(v, 1ull << 20);
    if (unit == "GiB" || unit == "G" || unit == "GB") return scaled(v, 1ull << 30);
    if (unit == "TiB" || unit == "T" || unit == "TB") return scaled(v, 1ull << 40);
    return std::nullopt;
}

std::optional<std::uint64_t> parse_duration_ns(std::string_view text) {
    const auto nu = number_and_unit(text);
    if (!nu) return std::nullopt;
    const auto [v, unit] = *nu;
    if (unit == "ns") return v;
    if (unit == "us") return scaled(v, 1'000);
    if (unit == "ms") return scaled(v, 1'000'000);
    if (unit == "s") return scaled(v, 1'000'000'000);
    if (unit == "m" || unit == "min") return scaled(v, 60'000'000'000);
    if (unit == "h") return scaled(v, 3'600'000'000'000);
    return std::nullopt;
}

std::string group_thousands(std::uint64_t v) {
    std::string digits = std::to_string(v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string human_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double v = static_cast<double>(bytes) / 1024.0;
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
        v /= 1024.0;
        ++u;
    }
    return v < 10.0 ? fmt::format("{:.1f} {}", v, kUnits[u]) : fmt::format("{:.0f} {}", v, kUnits[u]);
}

std::string seconds(std::uint64_t ns) {
    return fmt::format("{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
}

}  // namespace heapwise::cli
