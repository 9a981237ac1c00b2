// The map is rebuilt change by change in generation order (each add or remove is one
// generation), so every stack's recorded generation resolves exactly as in the original.
#include "analyzer/report/module_dirs.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace heapwise::analyzer {

ModuleMap with_module_dirs(const ModuleMap& map, const std::vector<std::string>& dirs) {
    struct Change {
        MapGeneration generation = 0;
        std::size_t index = 0;
        bool add = true;
    };
    std::vector<Change> changes;
    for (std::size_t i = 0; i < map.size(); ++i) {
        const auto index = static_cast<ModuleIndex>(i);
        changes.push_back({map.loaded_at(index), i, true});
        if (map.unloaded_at(index) != ~MapGeneration{0}) {
            changes.push_back({map.unloaded_at(index), i, false});
        }
    }
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return a.generation < b.generation; });
    ModuleMap out;
    for (const Change& c : changes) {
        if (!c.add) {
            out.remove(c.index);
            continue;
        }
        ModuleImage image = map.image(static_cast<ModuleIndex>(c.index));
        const std::string name = std::filesystem::path(image.path).filename().string();
        for (const std::string& dir : dirs) {
            if (name.empty()) break;
            const std::filesystem::path candidate = std::filesystem::path(dir) / name;
            std::error_code ec;
            if (std::filesystem::is_regular_file(candidate, ec)) {
                image.path = std::filesystem::absolute(candidate, ec).lexically_normal().string();
                break;
            }
        }
        out.add(c.index, std::move(image));
    }
    if (out.generation() != map.generation()) {
        throw std::logic_error("module map rebuilt with different generations");
    }
    return out;
}

}  // namespace heapwise::analyzer
