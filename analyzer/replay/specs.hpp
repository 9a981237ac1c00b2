// The text a user types to choose what to analyze: points in a trace ("start", "end", "peak",
// "90s", "1.5s", "250ms", "marker:LABEL" or a bare marker label), size literals ("1MiB", "512KiB",
// "10MB", "4096"), grouping keys ("lineno", "function", ...) and site filters
// ("module:libfoo*", "file:*/parser.cpp", "function:ns::*"). Parsing is strict: anything else is
// a SpecError whose message is one line naming the bad text and what was expected.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heapwise::analyzer {

class SpecError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct PointSpec {
    enum class Kind : std::uint8_t { kStart, kEnd, kPeak, kTime, kMarker };
    Kind kind = Kind::kEnd;
    std::uint64_t time_ns = 0;  // kTime: state after every record at or before this time
    std::string label;          // kMarker: state just before the first marker with this label
    std::string text;           // as the user wrote it, for reports and errors
};

// "start", "end", "peak", a duration with a unit (ns, us, ms, s, m, h; decimals allowed),
// "marker:LABEL", or any other non-empty text, taken as a marker label (whether it exists is
// only known once the trace is read: replay() throws SpecError for an unknown one).
PointSpec parse_point(std::string_view text);

// A duration with a mandatory unit: "90s", "1.5s", "250ms", "2m" (or "2min"), "1h", "10us",
// "5ns". The heapwise command parses every duration option with it.
std::uint64_t parse_duration_ns(std::string_view text);

// Bytes: a plain integer, or a number (decimals allowed) with a unit, case-insensitive: B;
// K, KB, KiB (1024); M, MB, MiB (1024^2); G, GB, GiB; T, TB, TiB. Every unit is binary, the
// meaning docs/tracer.md gives HEAPWISE_SAMPLE_INTERVAL, so one size means one number
// everywhere in heapwise ("10MB" == "10MiB" == 10485760). The heapwise command parses every
// size option with it.
std::uint64_t parse_size(std::string_view text);

// How a snapshot's stacks are grouped (tracemalloc's key_type, plus kStack: the raw stack id,
// which needs no symbols).
enum class GroupBy : std::uint8_t { kLineno, kFunction, kFile, kModule, kTraceback, kStack };
GroupBy parse_group_by(std::string_view text);  // "lineno", "function", ..., "stack"
std::string_view to_string(GroupBy by) noexcept;

// A site filter: a glob ('*' = any run) over one attribute of an allocation's site frame.
struct SiteFilter {
    enum class Target : std::uint8_t { kModule, kFile, kFunction };
    Target target = Target::kFunction;
    std::string pattern;
};
// "module:PATTERN", "file:PATTERN" or "function:PATTERN"; a missing or unknown key, or an empty
// pattern, is a SpecError.
SiteFilter parse_filter(std::string_view text);

}  // namespace heapwise::analyzer
