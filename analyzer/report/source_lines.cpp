// Reads each source file once, on its first use, and keeps its lines.
#include "analyzer/report/source_lines.hpp"

#include <filesystem>
#include <fstream>

namespace heapwise::analyzer {
namespace {

// Source files are small; a path that names something huge (a log, a device) is not read.
constexpr std::uintmax_t kMaxSourceBytes = 16u << 20;

std::optional<std::vector<std::string>> read_lines(const std::string& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec || size > kMaxSourceBytes) return std::nullopt;
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::vector<std::string> lines;
    std::string l;
    while (std::getline(in, l)) lines.push_back(std::move(l));
    return lines;
}

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\f\v");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\f\v");
    return s.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> SourceLines::line(const std::string& file, std::uint32_t number) {
    if (file.empty() || number == 0) return std::nullopt;
    auto it = files_.find(file);
    if (it == files_.end()) it = files_.emplace(file, read_lines(file)).first;
    const auto& lines = it->second;
    if (!lines || number > lines->size()) return std::nullopt;
    std::string text = trimmed((*lines)[number - 1]);
    if (text.empty()) return std::nullopt;
    return text;
}

}  // namespace heapwise::analyzer
