// `heapwise dump FILE`: every record, one per line, in file order. The line format is stable
// (tests and users grep it): time in seconds with 9 decimals, the thread ("t<index>", or "-"
// for records without one), the record kind, then key=value fields; addresses in hex, stacks as
// ids unless --stacks expands them. Damage shows as a "# damaged: ..." line where it happened.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <span>
#include <string>

#include "analyzer/trace_reader.hpp"
#include "cli_common.hpp"
#include "trace_input.hpp"

namespace heapwise::cli {

namespace {

using namespace heapwise::analyzer;

std::string quote_text(std::string_view s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string hex_frames(std::span<const std::uint64_t> frames) {
    std::string out = "[";
    for (std::size_t i = 0; i < frames.size(); ++i) out += fmt::format("{}{:#x}", i ? "," : "", frames[i]);
    return out + "]";
}

class Dumper final : public EventVisitor {
public:
    Dumper(bool stacks, const TraceReader*& reader) : stacks_(stacks), reader_(reader) {}

    void on_process_info(const ProcessInfo& e) override {
        std::string args;
        for (const auto& a : e.args) args += (args.empty() ? "" : ",") + quote_text(a);
        line(0, "-", "process_info",
             fmt::format("pid={} ppid={} start_unix_ns={} start_monotonic_ns={} tick_ns={} "
                         "pointer_size={} mode={} sample_interval={} unwinder={} max_depth={} "
                         "exe={} cwd={} args=[{}] options={}",
                         e.pid, e.ppid, e.start_unix_ns, e.start_monotonic_ns, e.tick_ns,
                         e.pointer_size, to_string(e.mode), e.sample_interval,
                         to_string(e.unwinder), e.max_depth, quote_text(e.exe), quote_text(e.cwd), args,
                         quote_text(e.options)));
    }
    void on_module_load(const ModuleLoad& e) override {
        std::string build_id, segs;
        for (const unsigned char c : e.build_id) build_id += fmt::format("{:02x}", c);
        for (const auto& s : e.segments)
            segs += fmt::format("{}{:#x}+{:#x}@{:#x}:{}{}{}", segs.empty() ? "" : ",", s.vaddr,
                                s.memsz, s.offset, s.flags & 4 ? 'r' : '-',
                                s.flags & 2 ? 'w' : '-', s.flags & 1 ? 'x' : '-');
        line(e.time_ns, "-", "module_load",
             fmt::format("module={} load_bias={:#x} path={} build_id={} segments=[{}]",
                         static_cast<std::uint32_t>(e.module), e.load_bias, quote_text(e.path),
                         build_id.empty() ? "-" : build_id, segs));
    }
    void on_module_unload(const ModuleUnload& e) override {
        line(e.time_ns, "-", "module_unload", fmt::format("module={}", static_cast<std::uint32_t>(e.module)));
    }
    void on_thread_start(const ThreadStart& e) override {
        line(e.time_ns, thread(e.thread), "thread_start", fmt::format("tid={} name={}", e.tid, quote_text(e.name)));
    }
    void on_thread_exit(const ThreadExit& e) override { line(e.time_ns, thread(e.thread), "thread_exit", ""); }
    void on_thread_name(const ThreadName& e) override {
        line(e.time_ns, thread(e.thread), "thread_name", fmt::format("name={}", quote_text(e.name)));
    }
    void on_stack(const StackDef& e) override {
        std::string fields = fmt::format("id={} depth={} own={} base={} base_from={}",
                                         static_cast<std::uint32_t>(e.id), e.frames.size(), e.nown,
                                         static_cast<std::uint32_t>(e.base), e.base_from);
        if (stacks_) fields += " frames=" + hex_frames(e.frames);
        line(0, "-", "stack", fields, false);
    }
    void on_alloc(const Alloc& e) override {
        std::string fields = fmt::format("addr={:#x} size={} stack={} fn={}", e.addr, e.size,
                                         static_cast<std::uint32_t>(e.stack), to_string(e.fn));
        if (stacks_ && reader_ != nullptr) fields += " frames=" + hex_frames(reader_->stacks().frames(e.stack));
        line(e.time_ns, thread(e.thread), "alloc", fields);
    }
    void on_free(const Free& e) override {
        line(e.time_ns, thread(e.thread), "free", fmt::format("addr={:#x} fn={}", e.addr, to_string(e.fn)));
    }
    void on_realloc_failed(const ReallocFailed& e) override {
        line(e.time_ns, thread(e.thread), "realloc_failed", fmt::format("addr={:#x}", e.addr));
    }
    void on_marker(const Marker& e) override {
        line(e.time_ns, thread(e.thread), "marker",
             fmt::format("source={} label={}", to_string(e.source), quote_text(e.label)));
    }
    void on_rss(const Rss& e) override { line(e.time_ns, "-", "rss", fmt::format("bytes={}", e.rss_bytes)); }
    void on_lost(const Lost& e) override {
        line(e.time_ns, thread(e.thread), "lost",
             fmt::format("allocs={} frees={} bytes={}", e.allocs, e.frees, e.bytes));
    }
    void on_end(const End& e) override {
        line(e.time_ns, "-", "end",
             fmt::format("reason={} events={} allocs={} frees={} bytes_allocated={} lost_events={} "
                         "stacks={} threads={}",
                         to_string(e.reason), e.events, e.allocs, e.frees, e.bytes_allocated,
                         e.lost_events, e.stacks, e.threads));
    }
    void on_damage(const TraceError& e) override { std::printf("# damaged: %s\n", e.what()); }

private:
    static std::string thread(ThreadId t) { return fmt::format("t{}", static_cast<std::uint32_t>(t)); }
    // Untimed records (process info, stacks) show the time of the record before them.
    void line(std::uint64_t time_ns, std::string_view thread, std::string_view kind,
              std::string_view fields, bool timed = true) {
        if (timed) last_time_ns_ = time_ns;
        const std::string text = fmt::format("{} {} {}{}{}\n", seconds(last_time_ns_), thread, kind,
                                             fields.empty() ? "" : " ", fields);
        std::fwrite(text.data(), 1, text.size(), stdout);
    }

    bool stacks_;
    const TraceReader*& reader_;
    std::uint64_t last_time_ns_ = 0;
};

}  // namespace

void register_dump(CLI::App& app, Runner& run) {
    auto* cmd = app.add_subcommand("dump", "Print every record of a trace, one per line");
    auto path = std::make_shared<std::string>();
    auto stacks = std::make_shared<bool>(false);
    cmd->add_option("FILE", *path, "trace file (.hwt)")->required();
    cmd->add_flag("--stacks", *stacks, "expand stacks into hex frames (leaf first)");
    cmd->callback([&run, path, stacks] {
        run = [path, stacks] {
            const TraceReader* reader = nullptr;
            Dumper dumper(*stacks, reader);
            TraceInputHooks hooks;
            hooks.opened = [&reader](const TraceReader& r) { reader = &r; };
            return read_trace_input(*path, dumper, hooks).exit_code;
        };
    });
}

}  // namespace heapwise::cli
