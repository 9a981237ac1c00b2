// What a test program says about itself on stdout, parsed: the programs print one fact per line
// ("ptr NAME 0xADDR", "range FUNCTION 0xLO 0xHI", "exe 0xLO 0xHI", "KEY VALUE...") so a test can
// match the trace against the addresses and functions of that very run (ASLR makes them differ
// from run to run). programs/report.h prints them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "replay.hpp"

namespace heapwise::e2e {

class Facts {
public:
    explicit Facts(std::string_view out);
    // The rest of every line whose first word is key, in order.
    std::vector<std::string> all(std::string_view key) const;
    // The rest of the one line whose first word is key; throws if there is not exactly one.
    std::string one(std::string_view key) const;
    std::uint64_t num(std::string_view key) const;
    std::uint64_t ptr(std::string_view name) const;          // "ptr NAME 0x..."
    std::vector<std::uint64_t> ptrs(std::string_view name) const;
    AddrRange range(std::string_view function) const;        // "range FUNCTION 0xLO 0xHI"
    std::vector<AddrRange> exe() const;                      // "exe 0xLO 0xHI" lines

private:
    std::multimap<std::string, std::string, std::less<>> lines_;
    std::vector<std::pair<std::string, std::string>> ordered_;
};

std::uint64_t parse_u64(std::string_view s);  // decimal or 0x hex; throws on anything else

}  // namespace heapwise::e2e
