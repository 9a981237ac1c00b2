// The statistics replay. A realloc is a free of the old block then an allocation of the new
// one; a failed realloc restores the block its free removed, so each thread remembers its last
// realloc free until the next event of that thread.
#include "analyzer/trace_stats.hpp"

#include <algorithm>

namespace heapwise::analyzer {

void StatsBuilder::timed(std::uint64_t time_ns) noexcept {
    ++stats_.records;
    stats_.duration_ns = std::max(stats_.duration_ns, time_ns);
}

void StatsBuilder::on_process_info(const ProcessInfo& e) {
    ++stats_.records;
    if (!stats_.process) stats_.process = e;
}
void StatsBuilder::on_module_load(const ModuleLoad& e) {
    timed(e.time_ns);
    ++stats_.modules;
}
void StatsBuilder::on_module_unload(const ModuleUnload& e) {
    timed(e.time_ns);
    ++stats_.module_unloads;
}
void StatsBuilder::on_thread_start(const ThreadStart& e) {
    timed(e.time_ns);
    ++stats_.threads;
}
void StatsBuilder::on_thread_exit(const ThreadExit& e) { timed(e.time_ns); }
void StatsBuilder::on_thread_name(const ThreadName& e) { timed(e.time_ns); }
void StatsBuilder::on_stack(const StackDef&) {
    ++stats_.records;
    ++stats_.stacks;
}

void StatsBuilder::on_alloc(const Alloc& e) {
    timed(e.time_ns);
    if (!pending_.empty()) pending_.erase(static_cast<std::uint32_t>(e.thread));
    ++stats_.events;
    ++stats_.allocs;
    ++stats_.allocs_by_fn[static_cast<std::size_t>(e.fn)];
    if (e.fn == AllocFn::kRealloc || e.fn == AllocFn::kReallocArray) ++stats_.reallocs;
    stats_.bytes_allocated += e.size;
    auto [it, inserted] = live_.try_emplace(e.addr, e.size);
    if (!inserted) {
        ++stats_.alloc_of_live;
        stats_.live_bytes -= it->second;  // the old block is gone, whatever the trace missed
        --stats_.live_blocks;
        it->second = e.size;
    }
    stats_.live_bytes += e.size;
    ++stats_.live_blocks;
    if (stats_.live_bytes > stats_.peak_live_bytes) {
        stats_.peak_live_bytes = stats_.live_bytes;
        stats_.peak_live_blocks = stats_.live_blocks;
        stats_.peak_time_ns = e.time_ns;
    }
}

void StatsBuilder::on_free(const Free& e) {
    timed(e.time_ns);
    const auto thread = static_cast<std::uint32_t>(e.thread);
    if (!pending_.empty()) pending_.erase(thread);
    ++stats_.events;
    if (e.addr == 0) {
        ++stats_.frees_null;
        return;
    }
    ++stats_.frees;
    ++stats_.frees_by_fn[static_cast<std::size_t>(e.fn)];
    const auto it = live_.find(e.addr);
    PendingRealloc pending{e.addr, 0, false};
    if (it == live_.end()) {
        ++stats_.free_of_unknown;
    } else {
        pending = {e.addr, it->second, true};
        stats_.live_bytes -= it->second;
        --stats_.live_blocks;
        live_.erase(it);
    }
    if (e.fn == FreeFn::kRealloc || e.fn == FreeFn::kReallocArray) pending_[thread] = pending;
}

void StatsBuilder::on_realloc_failed(const ReallocFailed& e) {
    timed(e.time_ns);
    ++stats_.events;
    ++stats_.reallocs;
    ++stats_.realloc_failed;
    const auto it = pending_.find(static_cast<std::uint32_t>(e.thread));
    if (it == pending_.end() || it->second.addr != e.addr) {
        ++stats_.realloc_failed_unknown;
        return;
    }
    if (it->second.known && live_.try_emplace(e.addr, it->second.size).second) {
        stats_.live_bytes += it->second.size;
        ++stats_.live_blocks;
    }
    pending_.erase(it);
}

void StatsBuilder::on_marker(const Marker& e) {
    timed(e.time_ns);
    ++stats_.markers;
    if (stats_.marker_labels.size() < TraceStats::kMaxLabels) stats_.marker_labels.push_back(e.label);
}
void StatsBuilder::on_rss(const Rss& e) {
    timed(e.time_ns);
    ++stats_.rss_samples;
    stats_.max_rss_bytes = std::max(stats_.max_rss_bytes, e.rss_bytes);
}
void StatsBuilder::on_lost(const Lost& e) {
    timed(e.time_ns);
    stats_.lost_allocs += e.allocs;
    stats_.lost_frees += e.frees;
    stats_.lost_bytes += e.bytes;
}
void StatsBuilder::on_end(const End& e) {
    timed(e.time_ns);
    stats_.end = e;
}

}  // namespace heapwise::analyzer
