// Replay of a trace for the end-to-end tests: streams the file through the analyzer's TraceReader
// and applies the format's rules (docs/trace-format.md) to a live set, counting every violation of
// the ordering rule instead of stopping at the first, so a test can assert there are none.
#include "replay.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace heapwise::e2e {
namespace {

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

class Replayer final : public hwa::EventVisitor {
public:
    Replayer(TraceFacts& facts, ReplayOptions options) : f_(facts), options_(options) {}

    void on_process_info(const hwa::ProcessInfo& e) override {
        ++f_.events;
        f_.info = e;
    }
    void on_module_load(const hwa::ModuleLoad& e) override {
        SeqModuleLoad m;
        static_cast<hwa::ModuleLoad&>(m) = e;
        m.seq = f_.events++;
        f_.module_loads.push_back(std::move(m));
    }
    void on_module_unload(const hwa::ModuleUnload& e) override {
        SeqModuleUnload m;
        static_cast<hwa::ModuleUnload&>(m) = e;
        m.seq = f_.events++;
        f_.module_unloads.push_back(m);
    }
    void on_thread_start(const hwa::ThreadStart& e) override {
        ++f_.events;
        f_.thread_starts.push_back(e);
    }
    void on_thread_exit(const hwa::ThreadExit& e) override {
        ++f_.events;
        f_.thread_exits.push_back(e);
    }
    void on_thread_name(const hwa::ThreadName&) override { ++f_.events; }
    void on_stack(const hwa::StackDef& e) override {
        SeqStack s;
        s.id = e.id;
        s.seq = f_.events++;
        if (options_.keep_ops) f_.stack_defs.push_back(s);
    }
    void on_alloc(const hwa::Alloc& e) override {
        const std::uint64_t seq = f_.events++;
        ++f_.allocs;
        f_.bytes_allocated += e.size;
        Block b{e.addr, e.size, e.stack, e.fn, e.thread, seq};
        pending_realloc_.erase(key(e.thread));
        auto [it, fresh] = f_.live.try_emplace(e.addr, b);
        if (!fresh) {
            ++f_.allocs_of_live;
            inconsistent("alloc of live address " + hex(e.addr) + " (size " + std::to_string(e.size) +
                         ") at event " + std::to_string(seq) + ", allocated at event " +
                         std::to_string(it->second.seq));
            it->second = b;
        }
        if (options_.keep_ops) {
            f_.ops.push_back(Op{seq, OpKind::kAlloc, e.thread, e.addr, e.time_ns,
                                static_cast<std::uint8_t>(e.fn), b, true});
        }
    }
    void on_free(const hwa::Free& e) override {
        const std::uint64_t seq = f_.events++;
        ++f_.frees;
        Op op{seq, OpKind::kFree, e.thread, e.addr, e.time_ns, static_cast<std::uint8_t>(e.fn), {}, true};
        const auto it = f_.live.find(e.addr);
        if (it == f_.live.end()) {
            op.known = false;
            ++f_.unknown_frees;
            inconsistent("free of unknown address " + hex(e.addr) + " at event " + std::to_string(seq));
        } else {
            op.block = it->second;
            f_.live.erase(it);
        }
        if (e.fn == hwa::FreeFn::kRealloc || e.fn == hwa::FreeFn::kReallocArray) {
            pending_realloc_[key(e.thread)] = op.block;
        } else {
            pending_realloc_.erase(key(e.thread));
        }
        if (options_.keep_ops) f_.ops.push_back(op);
    }
    void on_realloc_failed(const hwa::ReallocFailed& e) override {
        const std::uint64_t seq = f_.events++;
        ++f_.realloc_failed;
        Op op{seq, OpKind::kReallocFailed, e.thread, e.addr, e.time_ns, 0, {}, true};
        // The format: kReallocFailed(p) follows the kFree(p, kRealloc) of the same thread and
        // restores p as it was.
        const auto pending = pending_realloc_.find(key(e.thread));
        if (pending == pending_realloc_.end() || pending->second.addr != e.addr) {
            op.known = false;
            ++f_.unmatched_failed;
            inconsistent("realloc-failed of " + hex(e.addr) + " not just freed by realloc, at event " +
                         std::to_string(seq));
        } else {
            op.block = pending->second;
            pending_realloc_.erase(pending);
            if (!f_.live.try_emplace(e.addr, op.block).second) {
                ++f_.allocs_of_live;
                inconsistent("realloc-failed restores live address " + hex(e.addr));
            }
        }
        if (options_.keep_ops) f_.ops.push_back(op);
    }
    void on_marker(const hwa::Marker& e) override {
        SeqMarker m;
        static_cast<hwa::Marker&>(m) = e;
        m.seq = f_.events++;
        f_.markers.push_back(std::move(m));
    }
    void on_rss(const hwa::Rss&) override {
        ++f_.events;
        ++f_.rss_samples;
    }
    void on_lost(const hwa::Lost& e) override {
        ++f_.events;
        f_.lost.push_back(e);
    }
    void on_end(const hwa::End& e) override {
        ++f_.events;
        f_.end = e;
    }
    void on_damage(const hwa::TraceError& e) override {
        if (f_.damage.size() < 16) f_.damage.push_back(e.what());
    }

private:
    static std::uint32_t key(hwa::ThreadId t) { return static_cast<std::uint32_t>(t); }
    void inconsistent(std::string what) {
        ++f_.inconsistencies;
        if (f_.inconsistency_samples.size() < 8) f_.inconsistency_samples.push_back(std::move(what));
    }

    TraceFacts& f_;
    ReplayOptions options_;
    std::unordered_map<std::uint32_t, Block> pending_realloc_;  // thread -> block its realloc freed
};

}  // namespace

TraceFacts replay(const std::filesystem::path& path, ReplayOptions options) {
    TraceFacts facts;
    facts.path = path;
    hwa::TraceReader reader(path);
    Replayer replayer(facts, options);
    const auto summary = reader.read(replayer);
    if (facts.damage.empty()) {
        for (const auto& d : summary.damage) facts.damage.push_back(d.what());
    }
    facts.stacks = reader.stacks();
    return facts;
}

const SeqModuleLoad* TraceFacts::module_holding(std::uint64_t addr) const {
    for (const auto& m : module_loads) {
        for (const auto& r : exec_ranges(m)) {
            if (addr >= r.lo && addr < r.hi) return &m;
        }
    }
    return nullptr;
}

const SeqModuleLoad* TraceFacts::module_named(std::string_view path_part) const {
    for (const auto& m : module_loads) {
        if (m.path.find(path_part) != std::string::npos) return &m;
    }
    return nullptr;
}

std::uint64_t TraceFacts::lost_allocs() const {
    std::uint64_t n = 0;
    for (const auto& l : lost) n += l.allocs;
    return n;
}

std::uint64_t TraceFacts::lost_frees() const {
    std::uint64_t n = 0;
    for (const auto& l : lost) n += l.frees;
    return n;
}

std::string TraceFacts::summary() const {
    std::ostringstream s;
    s << path.filename().string() << ": " << (info ? info->exe : std::string("(no process info)"))
      << " pid " << (info ? info->pid : 0) << ", " << events << " events, " << allocs << " allocs, " << frees
      << " frees, " << realloc_failed << " failed reallocs, " << live.size() << " live, "
      << module_loads.size() << " modules, " << markers.size() << " markers, end "
      << (end ? hwa::to_string(end->reason) : "missing") << ", " << inconsistencies << " inconsistencies";
    for (const auto& i : inconsistency_samples) s << "\n  " << i;
    for (const auto& d : damage) s << "\n  damage: " << d;
    return s.str();
}

std::vector<AddrRange> exec_ranges(const hwa::ModuleLoad& m) {
    std::vector<AddrRange> out;
    constexpr std::uint8_t kPfX = 1;
    for (const auto& s : m.segments) {
        if (s.flags & kPfX) out.push_back({m.load_bias + s.vaddr, m.load_bias + s.vaddr + s.memsz});
    }
    return out;
}

bool first_frame_in(std::span<const std::uint64_t> frames, const std::vector<AddrRange>& within,
                    const AddrRange& fn) {
    for (const std::uint64_t ra : frames) {
        const bool inside = std::any_of(within.begin(), within.end(),
                                        [&](const AddrRange& r) { return r.holds_return_address(ra); });
        if (inside) return fn.holds_return_address(ra);
    }
    return false;
}

}  // namespace heapwise::e2e
