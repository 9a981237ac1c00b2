// Units and error lines for the heapwise command.
#include "cli_common.hpp"

#include <cstdio>

#include "analyzer/replay/specs.hpp"

namespace heapwise::cli {

void error_line(std::string_view message) {
    std::fputs(fmt::format("heapwise: {}\n", message).c_str(), stderr);
}

std::optional<std::uint64_t> try_parse_size(std::string_view text) {
    try {
        return analyzer::parse_size(text);
    } catch (const analyzer::SpecError&) {
        return std::nullopt;
    }
}

std::optional<std::uint64_t> try_parse_duration_ns(std::string_view text) {
    try {
        return analyzer::parse_duration_ns(text);
    } catch (const analyzer::SpecError&) {
        return std::nullopt;
    }
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
