// Shared pieces of the heapwise command: exit codes, the one-line error convention, human units
// (sizes, durations, thousands separators). Sizes and durations are parsed by the analyzer's
// parse_size / parse_duration_ns (analyzer/replay/specs.hpp), the one meaning of "KB" in heapwise.
// Every subcommand reports bad input as one "heapwise: ..." line on stderr and an exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace CLI {
class App;
}

namespace heapwise::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDamaged = 1;   // the input was damaged; what was good was used
inline constexpr int kExitUsage = 2;     // bad options, or input that cannot be used at all
inline constexpr int kExitGrowth = 3;    // diff / leaks: --fail-on-growth threshold exceeded

// A subcommand registers its options on the app and sets `run` when it is chosen.
using Runner = std::function<int()>;
void register_record(CLI::App& app, Runner& run);
void register_dump(CLI::App& app, Runner& run);
void register_stats(CLI::App& app, Runner& run);
void register_report(CLI::App& app, Runner& run);
void register_diff(CLI::App& app, Runner& run);
void register_leaks(CLI::App& app, Runner& run);
void register_timeline(CLI::App& app, Runner& run);  // tools/cli/timeline.cpp

// Prints "heapwise: <message>" and a newline on stderr.
void error_line(std::string_view message);

// analyzer::parse_size / parse_duration_ns without the exception: nullopt on a bad literal.
std::optional<std::uint64_t> try_parse_size(std::string_view text);
std::optional<std::uint64_t> try_parse_duration_ns(std::string_view text);

std::string group_thousands(std::uint64_t v);        // 52113 -> "52,113"
std::string human_bytes(std::uint64_t bytes);        // 318464 -> "311 KiB"
std::string seconds(std::uint64_t ns);               // 1234567890 -> "1.234567890"

}  // namespace heapwise::cli
