// End-to-end: threads. Blocks freed by other threads than their allocators, with addresses reused
// across threads, must replay in file order without a single inconsistency (the ordering rule);
// threads that exit early keep all their events; fork while another thread allocates neither
// deadlocks nor loses the child's trace (or stops tracing in the child, by option).
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "checks.hpp"

using namespace heapwise::e2e;

TEST_CASE("cross-thread frees replay in order, with exact totals", "[e2e][threads]") {
    TempDir dir;
    const Outcome r = run(traced({{Paths::get().program("e2e_cross_free").string(), "4", "25000"}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);  // zero inconsistencies over the whole trace, libc's own blocks included
    const auto exe = f.exe();
    const auto worker = f.range("worker");

    std::uint64_t allocs = 0, bytes = 0, frees = 0, cross = 0;
    std::set<std::uint64_t> ours;
    std::map<std::uint64_t, std::set<std::uint32_t>> threads_per_addr;
    std::set<std::uint32_t> threads;
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kAlloc && first_frame_in(t.frames(op.block.stack), exe, worker)) {
            ++allocs;
            bytes += op.block.size;
            ours.insert(op.seq);
            threads.insert(static_cast<std::uint32_t>(op.thread));
            threads_per_addr[op.addr].insert(static_cast<std::uint32_t>(op.thread));
        } else if (op.kind == OpKind::kFree && op.known && ours.count(op.block.seq) != 0) {
            ++frees;
            if (op.thread != op.block.thread) ++cross;
        }
    }
    CHECK(allocs == f.num("allocs"));
    CHECK(allocs == 4 * 25000);
    CHECK(bytes == f.num("bytes"));
    CHECK(threads.size() == 4);
    const auto leaks = f.ptrs("leak");
    REQUIRE(leaks.size() == 3);
    CHECK(frees == allocs - leaks.size());
    std::set<std::uint64_t> live_ours;
    for (const auto& [addr, b] : t.live) {
        if (ours.count(b.seq) != 0) live_ours.insert(addr);
    }
    CHECK(live_ours == std::set<std::uint64_t>(leaks.begin(), leaks.end()));
    // The stress did what it is for: many frees by another thread, addresses reused across threads.
    const auto shared = std::count_if(threads_per_addr.begin(), threads_per_addr.end(),
                                      [](const auto& kv) { return kv.second.size() > 1; });
    INFO("cross-thread frees " << cross << ", addresses allocated by several threads " << shared);
    CHECK(cross > allocs / 8);  // 4 threads yielding often on 2 cores: many blocks change hands
    CHECK(shared > 50);
}

TEST_CASE("the events of threads that exit early are all in the trace", "[e2e][threads]") {
    TempDir dir;
    Command c = traced({{Paths::get().program("e2e_thread_exit").string()}}, dir.path());
    c.env.emplace_back("HEAPWISE_FLUSH_INTERVAL", "200ms");
    Process p(c);
    REQUIRE(p.wait_for_stdout("joined", 20s));
    // The main thread lives on without allocating; its exit would flush everything, so it is
    // killed instead, once the six exits are in the file: what is there got there without it.
    CHECK(wait_for_trace(
        dir.path(), [](const fs::path& trace) { return replay(trace).thread_exits.size() >= 6; }, 200ms, 20s));
    p.signal(SIGKILL);
    const Outcome r = p.wait();
    INFO(r.describe());
    REQUIRE(r.term_signal == SIGKILL);
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    INFO(t.summary());
    CHECK(t.damage.empty());
    CHECK(t.inconsistencies == 0);
    const auto exe = f.exe();
    const auto work = f.range("thread_work");

    std::map<std::uint64_t, std::uint32_t> thread_of_tid;  // kernel tid -> trace thread
    for (const auto& s : t.thread_starts) thread_of_tid[s.tid] = static_cast<std::uint32_t>(s.thread);
    std::set<std::uint32_t> exited;
    for (const auto& e : t.thread_exits) exited.insert(static_cast<std::uint32_t>(e.thread));
    const auto tids = f.all("tid");
    REQUIRE(tids.size() == 6);
    for (const auto& line : tids) {
        std::istringstream s(line);
        std::string index_s, tid_s;
        s >> index_s >> tid_s;
        const auto index = parse_u64(index_s);
        const auto tid = parse_u64(tid_s);
        INFO("thread " << index << " tid " << tid);
        REQUIRE(thread_of_tid.count(tid) == 1);
        const auto thread = thread_of_tid[tid];
        CHECK(exited.count(thread) == 1);
        std::uint64_t allocs = 0, frees = 0;
        std::set<std::uint64_t> mine;
        for (const auto& op : t.ops) {
            if (op.kind == OpKind::kAlloc && static_cast<std::uint32_t>(op.thread) == thread &&
                first_frame_in(t.frames(op.block.stack), exe, work)) {
                CHECK(op.block.size == 3000 + index);
                ++allocs;
                mine.insert(op.seq);
            } else if (op.kind == OpKind::kFree && op.known && mine.count(op.block.seq) != 0) {
                ++frees;
            }
        }
        CHECK(allocs == 100);
        CHECK(frees == 50);
    }
}

namespace {

struct ForkRun {
    Outcome outcome;
    std::vector<TraceFacts> traces;
};

ForkRun run_fork(const fs::path& dir, const char* fork_mode) {
    Command c = traced({{Paths::get().program("e2e_fork_busy").string()}}, dir);
    c.timeout = 40s;  // a deadlock in a child fails here instead of hanging
    if (fork_mode != nullptr) c.env.emplace_back("HEAPWISE_FORK", fork_mode);
    ForkRun fr{run(c), {}};
    for (const auto& path : traces_in(dir)) fr.traces.push_back(replay(path));
    return fr;
}

std::vector<std::uint64_t> child_pids(const Facts& f) {
    std::vector<std::uint64_t> out;
    for (const auto& line : f.all("child")) {
        std::istringstream s(line);
        std::string pid, status;
        s >> pid >> status;
        CHECK(status == "0");
        out.push_back(parse_u64(pid));
    }
    return out;
}

}  // namespace

TEST_CASE("fork with a busy allocating thread: each child writes its own trace", "[e2e][threads][fork]") {
    TempDir dir;
    const ForkRun fr = run_fork(dir.path(), nullptr);
    INFO(fr.outcome.describe());
    REQUIRE(fr.outcome.exited_with(0));
    const Facts f(fr.outcome.out);
    const auto children = child_pids(f);
    REQUIRE(children.size() == 5);
    CHECK(f.one("parent_tracing") == "1");
    REQUIRE(fr.traces.size() == 6);
    const auto exe = f.exe();
    const auto child_work = f.range("child_work");
    for (const auto& t : fr.traces) {
        INFO(t.summary());
        REQUIRE(t.info.has_value());
        CHECK(t.damage.empty());
        CHECK(t.end.has_value());
        const auto ops = allocs_of(t, exe, child_work);
        if (t.info->pid == static_cast<std::uint64_t>(fr.outcome.pid)) {
            CHECK(t.inconsistencies == 0);
            CHECK(ops.empty());  // the parent never ran child_work
            CHECK(!allocs_of(t, exe, f.range("busy")).empty());
            continue;
        }
        CHECK(std::find(children.begin(), children.end(), t.info->pid) != children.end());
        CHECK(t.info->ppid == static_cast<std::uint64_t>(fr.outcome.pid));
        // The child may free blocks inherited from before the fork, nothing else is inconsistent.
        CHECK(t.allocs_of_live == 0);
        CHECK(t.unmatched_failed == 0);
        CHECK(f.all("child_tracing").size() == 5);
        REQUIRE(ops.size() == 7);
        for (const auto& op : ops) CHECK(op.block.size == 777);
        // child_work freed 3 of its 7 blocks.
        std::uint64_t live = 0;
        for (const auto& op : ops) {
            const auto it = t.live.find(op.addr);
            if (it != t.live.end() && it->second.seq == op.seq) ++live;
        }
        CHECK(live == 4);
    }
    for (const auto& line : f.all("child_tracing")) CHECK(line.substr(line.find(' ') + 1) == "1");
}

TEST_CASE("fork with HEAPWISE_FORK=stop: children run untraced", "[e2e][threads][fork]") {
    TempDir dir;
    const ForkRun fr = run_fork(dir.path(), "stop");
    INFO(fr.outcome.describe());
    REQUIRE(fr.outcome.exited_with(0));
    const Facts f(fr.outcome.out);
    REQUIRE(child_pids(f).size() == 5);
    REQUIRE(fr.traces.size() == 1);
    const auto& t = fr.traces.front();
    require_sound(t);
    CHECK(t.info->pid == static_cast<std::uint64_t>(fr.outcome.pid));
    CHECK(allocs_of(t, f.exe(), f.range("child_work")).empty());
    for (const auto& line : f.all("child_tracing")) CHECK(line.substr(line.find(' ') + 1) == "0");
    CHECK(f.one("parent_tracing") == "1");
}
