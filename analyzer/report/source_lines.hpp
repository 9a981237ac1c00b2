// The source code line shown under a report row (tracemalloc's linecache): the line of a file
// as the debug info names it, leading and trailing blanks removed. Files are read once and kept;
// a file that cannot be read (gone, or a relative path that does not resolve from the current
// directory) simply has no lines: a report never fails for a missing source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace heapwise::analyzer {

class SourceLines {
public:
    // Line numbers start at 1; nullopt when the file or the line is not there.
    std::optional<std::string> line(const std::string& file, std::uint32_t number);

private:
    std::unordered_map<std::string, std::optional<std::vector<std::string>>> files_;
};

}  // namespace heapwise::analyzer
