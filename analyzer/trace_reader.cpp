// Drives BlockReader and the record decoder; turns damage into reports and keeps going.
#include "analyzer/trace_reader.hpp"

#include <utility>

namespace heapwise::analyzer {

TraceReader::TraceReader(const std::filesystem::path& path) : blocks_(path) {}

ReadSummary TraceReader::read(EventVisitor& visitor) { return read_with(visitor); }

void TraceReader::report(const TraceError& e, ReadSummary& summary, EventVisitor& visitor) {
    ++summary.damaged;
    if (summary.damage.size() < ReadSummary::kMaxKeptDamage) summary.damage.push_back(e);
    visitor.on_damage(e);
}

bool TraceReader::next_block(BlockReader::Step& step, ReadSummary& summary, EventVisitor& visitor) {
    for (;;) {
        try {
            step = blocks_.next();
        } catch (const TraceError& e) {
            if (e.kind() != ErrorKind::kIo) throw;
            // A read error (a bad sector, a vanished network file) past the header: what was read
            // stays usable, as after a truncation. The reader stops: later reads would likely fail
            // the same way, and resynchronizing would need them.
            report(TraceError(ErrorKind::kIo, e.offset(),
                              std::string(e.what()) + "; nothing after it was read"),
                   summary, visitor);
            return false;
        }
        if (step.kind == BlockReader::Step::Kind::kEnd) return false;
        if (progress_) progress_(blocks_.position(), blocks_.file_size());
        if (step.kind == BlockReader::Step::Kind::kBlock) {
            ++summary.blocks;
            return true;
        }
        report(*step.error, summary, visitor);
    }
}

ReadSummary TraceReader::finish(ReadSummary summary) const {
    summary.records = state_.records;
    summary.stacks_missing_base = state_.stacks_missing_base;
    return summary;
}

namespace {

class Collector final : public EventVisitor {
public:
    explicit Collector(std::vector<Event>& out) : out_(out) {}
    void on_process_info(const ProcessInfo& e) override { out_.emplace_back(e); }
    void on_module_load(const ModuleLoad& e) override { out_.emplace_back(e); }
    void on_module_unload(const ModuleUnload& e) override { out_.emplace_back(e); }
    void on_thread_start(const ThreadStart& e) override { out_.emplace_back(e); }
    void on_thread_exit(const ThreadExit& e) override { out_.emplace_back(e); }
    void on_thread_name(const ThreadName& e) override { out_.emplace_back(e); }
    void on_stack(const StackDef& e) override { out_.emplace_back(e); }
    void on_alloc(const Alloc& e) override { out_.emplace_back(e); }
    void on_free(const Free& e) override { out_.emplace_back(e); }
    void on_realloc_failed(const ReallocFailed& e) override { out_.emplace_back(e); }
    void on_marker(const Marker& e) override { out_.emplace_back(e); }
    void on_rss(const Rss& e) override { out_.emplace_back(e); }
    void on_lost(const Lost& e) override { out_.emplace_back(e); }
    void on_end(const End& e) override { out_.emplace_back(e); }

private:
    std::vector<Event>& out_;
};

// Stops decoding as soon as the process info is in hand (or shown to be absent).
struct StopDecoding {};
class ProcessInfoPeek final : public EventVisitor {
public:
    std::optional<ProcessInfo> info;
    void on_process_info(const ProcessInfo& e) override {
        info = e;
        throw StopDecoding{};
    }
    void on_module_load(const ModuleLoad&) override { throw StopDecoding{}; }
    void on_stack(const StackDef&) override { throw StopDecoding{}; }
    void on_alloc(const Alloc&) override { throw StopDecoding{}; }
    void on_free(const Free&) override { throw StopDecoding{}; }
};

}  // namespace

std::optional<ProcessInfo> peek_process_info(const std::filesystem::path& path) {
    BlockReader blocks(path);
    for (;;) {
        auto step = blocks.next();
        if (step.kind == BlockReader::Step::Kind::kEnd) return std::nullopt;
        if (step.kind != BlockReader::Step::Kind::kBlock) continue;
        DecodeState state;
        ProcessInfoPeek peek;
        try {
            decode_block(step.records, step.offset, state, peek);
        } catch (const StopDecoding&) {
        } catch (const TraceError&) {
        }
        return peek.info;
    }
}

TraceContents read_all(const std::filesystem::path& path) {
    TraceReader reader(path);
    TraceContents c;
    c.file_header = reader.file_header();
    Collector collect(c.events);
    c.summary = reader.read(collect);
    c.stacks = reader.stacks();
    return c;
}

}  // namespace heapwise::analyzer
