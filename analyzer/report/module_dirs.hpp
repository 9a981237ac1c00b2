// Module files looked up in other directories (`--module-dir DIR`): a trace analyzed on another
// machine, or a program moved after it ran, still names its frames when its files are found by
// name in DIR. The symbolizer checks each file against the recorded build-id and segments as
// usual, so a wrong file is still never used.
#pragma once

#include <string>
#include <vector>

#include "analyzer/symbols/module_map.hpp"

namespace heapwise::analyzer {

// A copy of map, with the same modules and generations, in which each module whose file name
// (basename) exists as a regular file in one of dirs (first match wins) points to that file.
ModuleMap with_module_dirs(const ModuleMap& map, const std::vector<std::string>& dirs);

}  // namespace heapwise::analyzer
