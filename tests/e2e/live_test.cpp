// End-to-end: the tracer's live view (tracer_live.h) in a real program under the real shim. Exact
// live bytes and counts per call site; the same figures from the analyzer's replay of that run's
// trace to each snapshot's marker (threads allocating meanwhile, sampled weights included); the
// internal bracket kept out of snapshots and of group(); a late start; fork children; and without
// the tracer, null weak references.
#include <catch2/catch.hpp>

#include <cerrno>
#include <map>
#include <sstream>

#include "analyzer/replay/grouping.hpp"
#include "analyzer/replay/replay.hpp"
#include "checks.hpp"

using namespace heapwise::e2e;

namespace {

struct Site {
    std::uint32_t stack = 0;
    std::uint64_t live_bytes = 0, live_count = 0, allocs = 0, bytes_allocated = 0;
};
struct LiveSnap {
    std::uint64_t pid = 0, nsites = 0, live_bytes = 0, live_count = 0, since_nonzero = 0, sample_interval = 0;
    std::map<std::uint32_t, Site> sites;
};

// "snap LABEL ..." and its "site LABEL ..." lines.
LiveSnap snap_of(const Facts& f, const std::string& label) {
    LiveSnap s;
    for (const std::string& line : f.all("snap")) {
        std::istringstream in(line);
        std::string l;
        in >> l;
        if (l != label) continue;
        in >> s.pid >> s.nsites >> s.live_bytes >> s.live_count >> s.since_nonzero >> s.sample_interval;
    }
    for (const std::string& line : f.all("site")) {
        std::istringstream in(line);
        std::string l;
        Site x;
        in >> l >> x.stack >> x.live_bytes >> x.live_count >> x.allocs >> x.bytes_allocated;
        if (l == label) s.sites[x.stack] = x;
    }
    return s;
}

// The live snapshot and the offline replay to its marker agree on every stack and on the totals.
void require_same(const LiveSnap& live, const hwa::Snapshot& replayed) {
    std::uint64_t listed = 0;
    for (const auto& [stack, u] : replayed.stacks) {
        if (u.allocs == 0 && u.live_count == 0) continue;
        ++listed;
        const auto id = static_cast<std::uint32_t>(stack);
        INFO("stack " << id);
        REQUIRE(live.sites.count(id) == 1);
        const Site& s = live.sites.at(id);
        CHECK(s.live_bytes == u.live_bytes);
        CHECK(s.live_count == u.live_count);
        CHECK(s.allocs == u.allocs);
        CHECK(s.bytes_allocated == u.bytes_allocated);
    }
    CHECK(listed == live.nsites);
    CHECK(live.sites.size() == live.nsites);
    CHECK(live.live_bytes == replayed.live_bytes);
    CHECK(live.live_count == replayed.live_count);
}

// The stacks whose first frame in the executable lies in `fn`.
std::vector<std::uint32_t> stacks_of(const TraceFacts& t, const Facts& f, const std::string& fn) {
    std::vector<std::uint32_t> out;
    for (const auto& d : t.stack_defs) {
        if (first_frame_in(t.frames(d.id), f.exe(), f.range(fn))) out.push_back(static_cast<std::uint32_t>(d.id));
    }
    return out;
}

// The one site of `fn` in the snapshot.
Site site_in(const LiveSnap& s, const TraceFacts& t, const Facts& f, const std::string& fn) {
    Site found;
    int n = 0;
    for (const std::uint32_t id : stacks_of(t, f, fn)) {
        if (s.sites.count(id) != 0) {
            found = s.sites.at(id);
            ++n;
        }
    }
    INFO(fn << ": " << n << " sites");
    REQUIRE(n == 1);
    return found;
}

// The sum over every site of `fn` (a function may reach the allocator through several stacks).
Site sum_in(const LiveSnap& s, const TraceFacts& t, const Facts& f, const std::string& fn) {
    Site sum;
    for (const std::uint32_t id : stacks_of(t, f, fn)) {
        if (s.sites.count(id) == 0) continue;
        const Site& x = s.sites.at(id);
        sum.live_bytes += x.live_bytes;
        sum.live_count += x.live_count;
        sum.allocs += x.allocs;
        sum.bytes_allocated += x.bytes_allocated;
    }
    return sum;
}

Outcome run_live(const std::string& mode, const fs::path& dir,
                 std::vector<std::pair<std::string, std::string>> env = {{"HEAPWISE_LIVE", "1"}}) {
    Command c = traced({{Paths::get().program("e2e_live_sites").string(), mode}}, dir);
    for (auto& e : env) c.env.push_back(e);
    return run(c);
}

}  // namespace

TEST_CASE("live snapshots give exact figures per call site, as the replay does", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("exact", dir.path());
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("weak") == "1");
    CHECK(f.all("rc") == std::vector<std::string>{"live-1 0 0", "live-2 0 0"});
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const LiveSnap s1 = snap_of(f, "live-1");
    const LiveSnap s2 = snap_of(f, "live-2");
    CHECK(s1.pid == static_cast<std::uint64_t>(r.pid));
    CHECK(s1.since_nonzero == 0);
    CHECK(s1.sample_interval == 0);

    const Site keep = site_in(s1, t, f, "keep_site");
    CHECK(keep.live_bytes == 1000);
    CHECK(keep.live_count == 10);
    CHECK(keep.allocs == 10);
    CHECK(keep.bytes_allocated == 1000);
    const Site churn = site_in(s1, t, f, "churn_site");
    CHECK(churn.live_bytes == 0);
    CHECK(churn.live_count == 0);
    CHECK(churn.allocs == 5);
    CHECK(churn.bytes_allocated == 5000);
    // realloc(NULL, 64) then realloc to 4096: two allocations of the site, one block live.
    const Site grow = sum_in(s1, t, f, "grow_site");
    CHECK(grow.live_bytes == 4096);
    CHECK(grow.live_count == 1);
    CHECK(grow.allocs == 2);
    CHECK(grow.bytes_allocated == 4160);
    // The three internal blocks of 7777 bytes: no site, in no total.
    for (const auto& [id, s] : s1.sites) CHECK(s.bytes_allocated % 7777 != 0);
    const Site keep2 = site_in(s2, t, f, "keep_site");
    CHECK(keep2.live_bytes == 0);
    CHECK(keep2.allocs == 10);
    CHECK(s1.live_bytes - s2.live_bytes == 1000);

    // heapwise_tracer_stack_frames gives the trace's own frames for that stack.
    const auto frames_line = f.one("frames");
    std::istringstream in(frames_line);
    std::uint32_t id = 0;
    std::size_t depth = 0;
    in >> id >> depth;
    CHECK(id == keep.stack);
    const auto traced_frames = t.frames(hwa::StackId{id});
    CHECK(depth == traced_frames.size());
    std::string word;
    for (std::size_t k = 0; in >> word; ++k) {
        REQUIRE(k < traced_frames.size());
        CHECK(parse_u64(word) == traced_frames[k]);
    }

    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("live-1"), hwa::parse_point("live-2")};
    const hwa::ReplayResult rr = hwa::replay_trace(traces_in(dir.path()).front(), req);
    CHECK(rr.facts.free_of_unknown == 0);
    require_same(s1, rr.points[0]);
    require_same(s2, rr.points[1]);
    // group() leaves the internal stack out as well.
    const auto grouped = hwa::group(rr.points[0], hwa::GroupBy::kStack, nullptr);
    CHECK(grouped.bytes == s1.live_bytes);
    CHECK(grouped.count == s1.live_count);
    CHECK(grouped.groups.size() == s1.nsites);
    for (const auto& [id, x] : s1.sites) CHECK(grouped.groups.count("stack#" + std::to_string(id)) == 1);
}

TEST_CASE("live snapshots while threads allocate equal the replay at each marker", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("threads", dir.path(), {{"HEAPWISE_LIVE", "1"}, {"HEAPWISE_RING_SIZE", "256"}});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    hwa::ReplayRequest req;
    for (int k = 0; k < 10; ++k) req.points.push_back(hwa::parse_point("mt-" + std::to_string(k)));
    const hwa::ReplayResult rr = hwa::replay_trace(traces_in(dir.path()).front(), req);
    std::uint64_t thread_allocs_seen = 0;
    for (int k = 0; k < 10; ++k) {
        const LiveSnap s = snap_of(f, "mt-" + std::to_string(k));
        INFO("mt-" << k);
        require_same(s, rr.points[static_cast<std::size_t>(k)]);
        for (const std::uint32_t id : stacks_of(t, f, "thread_site")) {
            if (s.sites.count(id) != 0) thread_allocs_seen = std::max(thread_allocs_seen, s.sites.at(id).allocs);
        }
    }
    CHECK(thread_allocs_seen > 0);  // the snapshots did see the threads at work
}

TEST_CASE("sampled mode: live figures weigh blocks exactly as the analyzer does", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("sampled", dir.path(),
                               {{"HEAPWISE_LIVE", "1"}, {"HEAPWISE_MODE", "sampled"}, {"HEAPWISE_SAMPLE_INTERVAL", "64KiB"}});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const LiveSnap s = snap_of(f, "sampled");
    CHECK(s.sample_interval == 65536);
    hwa::ReplayRequest req;
    req.points = {hwa::parse_point("sampled")};
    const hwa::ReplayResult rr = hwa::replay_trace(traces_in(dir.path()).front(), req);
    CHECK(rr.points[0].estimated);
    require_same(s, rr.points[0]);
    // 1 MiB blocks are sampled all but surely (p = 1 - e^-16) and weigh 1 each.
    const Site big = site_in(s, t, f, "big_site");
    CHECK(big.live_count == 20);
    CHECK(big.live_bytes == 20u << 20);
}

TEST_CASE("aggregation enabled late ignores the blocks allocated before", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("late", dir.path(), {});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("enable") == "0");
    CHECK(f.one("enable-again") == "0");
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const LiveSnap s = snap_of(f, "late");
    CHECK(s.since_nonzero == 1);
    CHECK(stacks_of(t, f, "keep_site").size() == 1);
    for (const std::uint32_t id : stacks_of(t, f, "keep_site")) CHECK(s.sites.count(id) == 0);
    const Site late = site_in(s, t, f, "churn_site");
    CHECK(late.live_bytes == 1000);
    CHECK(late.allocs == 1);
    for (const auto& [id, x] : s.sites) {
        CHECK(x.live_bytes <= x.bytes_allocated);  // the early block's free took nothing away
    }
}

TEST_CASE("a fork child of a process with the view on has its own view", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("fork", dir.path(), {});  // the parent enables it itself
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("child-status") == "0");
    CHECK(f.num("looped") > 0);  // a thread kept snapshotting across the fork
    const auto rcs = f.all("rc");
    CHECK(rcs == std::vector<std::string>{"parent 0 0", "child 0 0"});
    const LiveSnap child = snap_of(f, "child");
    CHECK(child.pid != static_cast<std::uint64_t>(r.pid));
    CHECK(child.since_nonzero == 0);  // on from the start of the child's own trace
    const auto files = traces_in(dir.path());
    REQUIRE(files.size() == 2);
    for (const auto& file : files) {
        const TraceFacts t = replay(file);
        require_sound(t);
        if (t.info->pid != child.pid) continue;
        const Site s = site_in(child, t, f, "child_site");
        CHECK(s.live_bytes == 4 * 333);
        CHECK(s.live_count == 4);
        hwa::ReplayRequest req;
        req.points = {hwa::parse_point("child")};
        require_same(child, hwa::replay_trace(file, req).points[0]);
    }
}

TEST_CASE("without the tracer the live entry points are null", "[e2e][live]") {
    const Outcome r = run({{Paths::get().program("e2e_live_sites").string(), "exact"}});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("weak") == "0");
    CHECK(f.all("rc").empty());
}

TEST_CASE("a busy program exits cleanly with the view on", "[e2e][live]") {
    // The writer is still aggregating the last frees when exit runs the shim's static
    // destructors: nothing it uses may be destroyed under it.
    for (int i = 0; i < 5; ++i) {
        TempDir dir;
        const Outcome r = run_live("exit", dir.path());
        INFO(r.describe());
        REQUIRE(r.exited_with(0));
        const TraceFacts t = the_trace(dir.path(), ReplayOptions{false});
        require_sound(t);
        CHECK(t.allocs >= 300000);  // and the runtime's own (stdio)
        CHECK(t.end->allocs == t.allocs);
    }
}

TEST_CASE("a malformed HEAPWISE_LIVE is one line and the program runs on untraced", "[e2e][live]") {
    TempDir dir;
    const Outcome r = run_live("late", dir.path(), {{"HEAPWISE_LIVE", "maybe"}});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    CHECK(r.err == "heapwise: HEAPWISE_LIVE=maybe: expected 1 or 0; the program runs untraced\n");
    const Facts f(r.out);
    CHECK(f.one("weak") == "1");  // the shim is loaded, but not recording
    CHECK(f.one("enable") == "-1");
    CHECK(f.all("rc") == std::vector<std::string>{"late -1 " + std::to_string(ENOSYS)});
    CHECK(traces_in(dir.path()).empty());
}
