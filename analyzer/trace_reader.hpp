// The analyzer's entry point for reading a trace: streams every block of a file through the
// record decoder into an EventVisitor, in file order (which is the order events happened).
// Memory: one block plus the stack table, never proportional to the number of events.
//
//   heapwise::analyzer::TraceReader reader("trace.hwt");   // throws TraceError if unusable
//   struct Count : heapwise::analyzer::EventVisitor {
//       std::uint64_t allocs = 0;
//       void on_alloc(const heapwise::analyzer::Alloc&) override { ++allocs; }
//   } count;
//   const auto summary = reader.read(count);               // damage: summary.damage, count.on_damage
//   reader.stacks().frames(stack_id);                       // expanded frames, leaf first
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "analyzer/block_reader.hpp"
#include "analyzer/events.hpp"
#include "analyzer/record_decoder.hpp"
#include "analyzer/stack_table.hpp"
#include "analyzer/trace_error.hpp"

namespace heapwise::analyzer {

struct ReadSummary {
    std::uint64_t blocks = 0;          // blocks decoded (a block with a bad record included)
    std::uint64_t records = 0;         // records decoded
    std::uint64_t damaged = 0;         // pieces of damage met (corrupt, truncated, bad record)
    std::vector<TraceError> damage;    // the first kMaxKeptDamage of them, in file order
    std::uint64_t stacks_missing_base = 0;
    bool clean() const noexcept { return damaged == 0; }
    static constexpr std::size_t kMaxKeptDamage = 64;
};

class TraceReader {
public:
    // Opens the file and checks its header; see BlockReader for the errors thrown.
    explicit TraceReader(const std::filesystem::path& path);

    // Reads the whole file from its first block, delivering events to visitor. Damage does not
    // stop it: each piece goes to visitor.on_damage and into the summary, and reading resumes at
    // the next valid block. A read error (kIo) past the file header is reported the same way,
    // and then reading stops: what came before it stays usable. Throws only what the visitor
    // throws. Call once.
    ReadSummary read(EventVisitor& visitor);
    // read() for a visitor of static type V derived from EventVisitor: the same events, order and
    // summary, but a `final` V has its on_alloc and on_free called directly, without a virtual
    // call per event (decode_block_with). For visitors whose per-event work is small.
    template <class V>
    ReadSummary read_with(V& visitor);

    // Optional: called by read() after each block (or piece of damage) with the file offset
    // reached and the file size, so a tool can show progress. Once per block, never per event.
    using Progress = std::function<void(std::uint64_t bytes_read, std::uint64_t file_size)>;
    void set_progress(Progress progress) { progress_ = std::move(progress); }

    const format::FileHeader& file_header() const noexcept { return blocks_.file_header(); }
    std::uint64_t file_size() const noexcept { return blocks_.file_size(); }
    // Stacks defined by the blocks read so far.
    const StackTable& stacks() const noexcept { return state_.stacks; }

private:
    // One block's damage or nothing; advances to the next block or the end. False at the end.
    bool next_block(BlockReader::Step& step, ReadSummary& summary, EventVisitor& visitor);
    void report(const TraceError& e, ReadSummary& summary, EventVisitor& visitor);
    ReadSummary finish(ReadSummary summary) const;

    BlockReader blocks_;
    DecodeState state_;
    Progress progress_;
};

template <class V>
ReadSummary TraceReader::read_with(V& visitor) {
    ReadSummary summary;
    BlockReader::Step step;
    while (next_block(step, summary, visitor)) {
        try {
            decode_block_with(step.records, step.offset, state_, visitor);
        } catch (const TraceError& e) {
            report(e, summary, visitor);  // the rest of this block is unreadable; the next starts afresh
        }
    }
    return finish(std::move(summary));
}

// The ProcessInfo of a trace from its first good block only: cheap on a file of any size. nullopt
// when that block does not start with one. Throws TraceError as TraceReader's constructor does.
std::optional<ProcessInfo> peek_process_info(const std::filesystem::path& path);

// A whole small trace in memory: for tests and tools that want random access. Not for large
// traces (it keeps every event).
struct TraceContents {
    format::FileHeader file_header{};
    std::vector<Event> events;
    StackTable stacks;
    ReadSummary summary;
};
TraceContents read_all(const std::filesystem::path& path);

}  // namespace heapwise::analyzer
