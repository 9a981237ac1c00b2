// JSON rendering of the report documents: one object per command, schema "heapwise-report",
// version kReportJsonVersion. docs/report-json.md defines every field and its unit; a change to
// a field's meaning or a removal bumps the version, an added field does not.
#pragma once

#include <nlohmann/json.hpp>

#include "analyzer/report/documents.hpp"

namespace heapwise::analyzer {

inline constexpr int kReportJsonVersion = 1;

nlohmann::json to_json(const ReportDoc& doc);
nlohmann::json to_json(const DiffDoc& doc);
nlohmann::json to_json(const LeaksDoc& doc);

}  // namespace heapwise::analyzer
