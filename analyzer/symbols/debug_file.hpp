// Where a module's separate debug information lives: by build-id under each debug root
// (ROOT/.build-id/xx/rest.debug), then by .gnu_debuglink beside the file, in its .debug/ folder
// and under each root (ROOT/<dir>/<link>). A candidate is taken only when it matches: same
// build-id when the module has one, else the debuglink's CRC32. Never asks a debuginfod server.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace heapwise::analyzer {

struct DebugFileQuery {
    std::string_view module_path;              // the main file, as opened
    std::span<const unsigned char> build_id;   // the main file's build-id; may be empty
    std::string_view debuglink;                // .gnu_debuglink file name; may be empty
    std::uint32_t debuglink_crc = 0;
};

// The matching debug file's path, or an empty string when none is found.
std::string find_debug_file(const DebugFileQuery& query, const std::vector<std::string>& roots);

// The candidate paths find_debug_file tries, in order (for documentation and tests).
std::vector<std::string> debug_file_candidates(const DebugFileQuery& query,
                                               const std::vector<std::string>& roots);

// The GNU build-id note of an ELF file on disk, raw bytes; empty when it has none or is not ELF.
std::string read_build_id(const std::string& path);

// CRC32 (the zlib polynomial) of a whole file, as .gnu_debuglink records it; false on I/O error.
bool file_crc32(const std::string& path, std::uint32_t& crc);

}  // namespace heapwise::analyzer
