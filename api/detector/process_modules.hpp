// This process's loaded modules as the analyzer's ModuleMap wants them (path, build-id, load
// bias, PT_LOAD segments), read in process with dl_iterate_phdr: the live counterpart of the
// trace's kModuleLoad records. refresh() adds modules loaded since the last call and removes
// the ones unloaded, so addresses resolve against what is mapped now.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/symbols/module_map.hpp"

namespace heapwise::api {

class ProcessModules {
public:
    // map must outlive this object; only refresh() changes it.
    explicit ProcessModules(analyzer::ModuleMap& map) : map_(map) {}
    // Re-reads the loaded modules; returns how many were added or removed.
    std::size_t refresh();

private:
    analyzer::ModuleMap& map_;
    std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> keys_;  // (path, bias) -> key
    std::uint64_t next_key_ = 1;
};

// The modules loaded now, as images (exposed for tests).
std::vector<analyzer::ModuleImage> loaded_modules();

}  // namespace heapwise::api
