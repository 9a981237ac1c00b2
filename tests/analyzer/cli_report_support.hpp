// Shared by the report/diff/leaks CLI tests: running the real heapwise binary on the checked-in
// golden traces (tests/data, HEAPWISE_TEST_DATA) with the checked-in binary for symbols, and
// parsing its JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_process.hpp"

namespace heapwise::test {

// tests/data in the source tree.
std::string data_dir();
// heapwise ARGS... run in tests/data with --module-dir . appended, NO_COLOR set, output piped.
RunResult heapwise_in_data(std::vector<std::string> args);
// The same with --json; REQUIREs exit code want_exit and parses stdout.
nlohmann::json heapwise_json(std::vector<std::string> args, int want_exit = 0);
// The row of a JSON rows array whose key is key (a null json when there is none).
nlohmann::json row_with_key(const nlohmann::json& rows, const std::string& key);
// Whether text holds line as one whole line.
bool has_line(const std::string& text, const std::string& line);

}  // namespace heapwise::test
