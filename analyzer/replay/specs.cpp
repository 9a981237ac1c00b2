// Parsers for points, durations, sizes, grouping keys and filters. Numbers are parsed by hand
// (digits, one optional '.', digits) so "1e3", "0x10", "+5", " 5" and "5 MiB" are all rejected.
#include "analyzer/replay/specs.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

namespace heapwise::analyzer {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Splits "12.5MiB" into the number and the unit; nullopt-like (false) when there is no number.
bool split_number(std::string_view text, long double& value, std::string_view& unit) {
    std::size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        v = v * 10 + (text[i] - '0');
        digits = true;
        ++i;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        long double scale = 0.1L;
        bool frac = false;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            v += (text[i] - '0') * scale;
            scale /= 10;
            frac = true;
            ++i;
        }
        if (!frac) return false;
    }
    if (!digits) return false;
    value = v;
    unit = text.substr(i);
    return true;
}

std::uint64_t to_u64(long double v, std::string_view text, const char* what) {
    if (!(v < 18446744073709551615.0L)) {
        throw SpecError("bad " + std::string(what) + " '" + std::string(text) + "': too large");
    }
    return static_cast<std::uint64_t>(std::llroundl(v));
}

}  // namespace

std::uint64_t parse_duration_ns(std::string_view text) {
    long double v = 0;
    std::string_view unit;
    if (!split_number(text, v, unit) || unit.empty()) {
        throw SpecError("bad time '" + std::string(text) +
                        "': expected a number with a unit (ns, us, ms, s, m, h), e.g. 90s, 250ms");
    }
    static constexpr std::array<std::pair<std::string_view, long double>, 7> kUnits{{
        {"ns", 1.0L}, {"us", 1e3L}, {"ms", 1e6L}, {"s", 1e9L}, {"m", 60e9L}, {"min", 60e9L},
        {"h", 3600e9L}}};
    for (const auto& [name, scale] : kUnits) {
        if (unit == name) return to_u64(v * scale, text, "time");
    }
    throw SpecError("bad time '" + std::string(text) + "': unknown unit '" + std::string(unit) +
                    "' (ns, us, ms, s, m or min, h)");
}

std::uint64_t parse_size(std::string_view text) {
    long double v = 0;
    std::string_view unit;
    if (!split_number(text, v, unit)) {
        throw SpecError("bad size '" + std::string(text) +
                        "': expected bytes or a number with a unit, e.g. 4096, 512KiB, 10MB");
    }
    const std::string u = lower(unit);
    // One meaning for every heapwise size, the tracer's (docs/tracer.md, HEAPWISE_* values):
    // K, KB and KiB are all 1024 bytes, and so on up.
    static constexpr long double kKi = 1024.0L;
    static constexpr std::array<std::pair<std::string_view, long double>, 14> kUnits{{
        {"", 1.0L}, {"b", 1.0L},
        {"k", kKi}, {"kb", kKi}, {"kib", kKi},
        {"m", kKi * kKi}, {"mb", kKi * kKi}, {"mib", kKi * kKi},
        {"g", kKi * kKi * kKi}, {"gb", kKi * kKi * kKi}, {"gib", kKi * kKi * kKi},
        {"t", kKi * kKi * kKi * kKi}, {"tb", kKi * kKi * kKi * kKi}, {"tib", kKi * kKi * kKi * kKi}}};
    for (const auto& [name, scale] : kUnits) {
        if (u == name) {
            if (name.empty() && text.find('.') != std::string_view::npos) break;  // "1.5" bytes
            return to_u64(v * scale, text, "size");
        }
    }
    throw SpecError("bad size '" + std::string(text) + "': unknown unit '" + std::string(unit) +
                    "' (B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, all powers of 1024)");
}

PointSpec parse_point(std::string_view text) {
    PointSpec p;
    p.text = std::string(text);
    if (text.empty()) throw SpecError("bad point '': expected start, end, peak, a time or a marker");
    if (text == "start") {
        p.kind = PointSpec::Kind::kStart;
    } else if (text == "end") {
        p.kind = PointSpec::Kind::kEnd;
    } else if (text == "peak") {
        p.kind = PointSpec::Kind::kPeak;
    } else if (text.starts_with("marker:")) {
        p.kind = PointSpec::Kind::kMarker;
        p.label = std::string(text.substr(7));
        if (p.label.empty()) throw SpecError("bad point 'marker:': the marker label is empty");
    } else if (std::isdigit(static_cast<unsigned char>(text.front()))) {
        // Text starting with a digit must be a time: "90x" is an error, not a marker label.
        p.kind = PointSpec::Kind::kTime;
        p.time_ns = parse_duration_ns(text);
    } else {
        p.kind = PointSpec::Kind::kMarker;
        p.label = std::string(text);
    }
    return p;
}

GroupBy parse_group_by(std::string_view text) {
    static constexpr std::array<GroupBy, 6> kAll{GroupBy::kLineno, GroupBy::kFunction,
                                                 GroupBy::kFile, GroupBy::kModule,
                                                 GroupBy::kTraceback, GroupBy::kStack};
    for (GroupBy by : kAll) {
        if (text == to_string(by)) return by;
    }
    throw SpecError("unknown grouping key '" + std::string(text) +
                    "': expected lineno, function, file, module, traceback or stack");
}

std::string_view to_string(GroupBy by) noexcept {
    switch (by) {
        case GroupBy::kLineno: return "lineno";
        case GroupBy::kFunction: return "function";
        case GroupBy::kFile: return "file";
        case GroupBy::kModule: return "module";
        case GroupBy::kTraceback: return "traceback";
        case GroupBy::kStack: return "stack";
    }
    return "?";
}

SiteFilter parse_filter(std::string_view text) {
    const auto colon = text.find(':');
    const std::string_view key = colon == std::string_view::npos ? "" : text.substr(0, colon);
    SiteFilter f;
    if (key == "module") {
        f.target = SiteFilter::Target::kModule;
    } else if (key == "file") {
        f.target = SiteFilter::Target::kFile;
    } else if (key == "function") {
        f.target = SiteFilter::Target::kFunction;
    } else {
        throw SpecError("bad filter '" + std::string(text) +
                        "': expected module:PATTERN, file:PATTERN or function:PATTERN");
    }
    f.pattern = std::string(text.substr(colon + 1));
    if (f.pattern.empty()) throw SpecError("bad filter '" + std::string(text) + "': empty pattern");
    return f;
}

}  // namespace heapwise::analyzer
