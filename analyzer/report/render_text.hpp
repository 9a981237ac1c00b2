// Text rendering of the report documents: aligned "label  value" header lines with human units,
// then tables whose rows read like tracemalloc's:
//   leaky.c:42: size=12.3 MiB (+12.3 MiB), count=3000 (+3000), average=4.2 KiB
// with the source line (lineno) or the rest of the stack (traceback) indented under each row.
// Colour (bold titles, red growth, green shrinkage) only when TextStyle::color is set: the
// command sets it for a terminal without NO_COLOR, so piped output is plain.
#pragma once

#include <string>

#include "analyzer/report/documents.hpp"

namespace heapwise::analyzer {

struct TextStyle {
    bool color = false;
};

std::string render_text(const ReportDoc& doc, const TextStyle& style = {});
std::string render_text(const DiffDoc& doc, const TextStyle& style = {});
std::string render_text(const LeaksDoc& doc, const TextStyle& style = {});

}  // namespace heapwise::analyzer
