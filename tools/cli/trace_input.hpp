// Reading a trace file for a subcommand, with the command's error convention: an unusable file
// (missing, not a trace, newer major version) is one stderr line and exit 2; damage is read
// past, then summed up in one stderr line naming the file, the byte offset and what broke, and
// exit 1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "analyzer/trace_reader.hpp"

namespace heapwise::cli {

struct TraceInput {
    int exit_code = 0;  // kExitOk, kExitDamaged or kExitUsage
    std::uint64_t file_size = 0;
    analyzer::ReadSummary summary;
};

struct TraceInputHooks {
    // After the file is opened, before reading: e.g. to let the visitor see the stack table.
    std::function<void(const analyzer::TraceReader&)> opened;
    // Instead of reader.read(visitor): e.g. reader.read_with(v) for a `final` visitor, whose
    // per-event calls are then direct. It must deliver to the same visitor.
    std::function<analyzer::ReadSummary(analyzer::TraceReader&)> reading;
    // After reading, before the damage line, so a command prints its results first.
    std::function<void(const analyzer::TraceReader&, const analyzer::ReadSummary&)> read;
};

// Reads path into visitor, with the command's error lines and exit codes.
TraceInput read_trace_input(const std::string& path, analyzer::EventVisitor& visitor,
                            const TraceInputHooks& hooks = {});

}  // namespace heapwise::cli
