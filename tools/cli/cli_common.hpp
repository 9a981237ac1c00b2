// Shared pieces of the heapwise command: exit codes, the one-line error convention, human units
// (sizes, durations, thousands separators) and the parsers for size and duration options.
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

// A subcommand registers its options on the app and sets `run` when it is chosen.
using Runner = std::function<int()>;
void register_record(CLI::App& app, Runner& run);
void register_dump(CLI::App& app, Runner& run);
void register_stats(CLI::App& app, Runner& run);

// Prints "heapwise: <message>" and a newline on stderr.
void error_line(std::string_view message);

// "512KiB", "1MiB", "4096", "2GiB", "64B": bytes. Units are binary (KiB = 1024); K/KB, M/MB,
// G/GB mean the same, as in the tracer's own parser. nullopt on anything else or on overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);
// "10s", "500ms", "250us", "2m", "1h", "100ns": nanoseconds. A unit is required.
std::optional<std::uint64_t> parse_duration_ns(std::string_view text);

std::string group_thousands(std::uint64_t v);        // 52113 -> "52,113"
std::string human_bytes(std::uint64_t bytes);        // 318464 -> "311 KiB"
std::string seconds(std::uint64_t ns);               // 1234567890 -> "1.234567890"

}  // namespace heapwise::cli
