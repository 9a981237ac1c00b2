// Helpers of the report CLI tests (cli_report_support.hpp).
#include "cli_report_support.hpp"

#include <catch2/catch.hpp>

namespace heapwise::test {

std::string data_dir() { return env_or_fail("HEAPWISE_TEST_DATA"); }

RunResult heapwise_in_data(std::vector<std::string> args) {
    args.insert(args.begin(), heapwise_exe());
    args.push_back("--module-dir");
    args.push_back(".");
    RunOptions o;
    o.cwd = data_dir();
    o.env.emplace("NO_COLOR", "1");
    return run(args, o);
}

nlohmann::json heapwise_json(std::vector<std::string> args, int want_exit) {
    args.emplace_back("--json");
    const RunResult r = heapwise_in_data(args);
    INFO(r.err);
    REQUIRE(r.exited(want_exit));
    return nlohmann::json::parse(r.out);
}

nlohmann::json row_with_key(const nlohmann::json& rows, const std::string& key) {
    for (const auto& row : rows) {
        if (row.at("key") == key) return row;
    }
    return nullptr;
}

bool has_line(const std::string& text, const std::string& line) {
    // Line by line: no "\n" + line concatenation, which GCC 12 misreads (-Wrestrict, PR105329).
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        const std::size_t stop = end == std::string::npos ? text.size() : end;
        if (text.compare(start, stop - start, line) == 0) return true;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return false;
}

}  // namespace heapwise::test
