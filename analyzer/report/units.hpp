// Human units for reports: sizes the way Python's tracemalloc prints them ("12.3 MiB",
// "+4096 B"), counts with thousands separators, times in seconds. One place, so text reports,
// their tests and docs/cli.md agree on every digit.
#pragma once

#include <cstdint>
#include <string>

namespace heapwise::analyzer {

// tracemalloc's _format_size: below 100 of a unit above B, one decimal ("12.3 MiB"); below
// 10 * 1024 of a unit, no decimal ("4096 B", "1024 KiB"); otherwise the next unit up (to TiB).
std::string format_size(double bytes);
std::string format_size(std::uint64_t bytes);
// The same with a sign always shown: "+12.3 MiB", "-4096 B", "+0 B".
std::string format_size_diff(std::int64_t bytes);
std::string format_signed(std::int64_t v);          // "+3000", "-2", "+0"
std::string group_digits(std::uint64_t v);          // 52113 -> "52,113"
std::string format_seconds(std::uint64_t ns);       // 1234567890 -> "1.235 s"
std::string format_rate(double bytes_per_second);   // "+3.3 MiB/s"

}  // namespace heapwise::analyzer
