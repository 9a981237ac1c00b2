// End-to-end: markers (call, signal, period; the call without the tracer), the lossy and sampled
// modes, and bad input (a malformed setting, an unwritable output path): the program's output and
// exit status stay intact, with one line on stderr.
#include <catch2/catch.hpp>

#include <algorithm>

#include "checks.hpp"

using namespace heapwise::e2e;

namespace {

std::vector<const SeqMarker*> markers_from(const TraceFacts& t, hwa::MarkerSource source) {
    std::vector<const SeqMarker*> out;
    for (const auto& m : t.markers) {
        if (m.source == source) out.push_back(&m);
    }
    return out;
}

const Op* alloc_at(const TraceFacts& t, std::uint64_t addr, std::uint64_t size) {
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kAlloc && op.addr == addr && op.block.size == size) return &op;
    }
    return nullptr;
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("heapwise_snapshot() from the program writes ordered markers", "[e2e][modes][markers]") {
    TempDir dir;
    const Outcome r = run(traced({{Paths::get().program("e2e_markers").string(), "call"}}, dir.path()));
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("tracing") == "1");
    CHECK(f.all("rc") == std::vector<std::string>{"first 0", "second 0"});
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const auto calls = markers_from(t, hwa::MarkerSource::kCall);
    REQUIRE(calls.size() == 2);
    CHECK(calls[0]->label == "first");
    CHECK(calls[1]->label == "second");
    const Op* block = alloc_at(t, f.ptr("block"), 1111);
    REQUIRE(block != nullptr);
    CHECK(calls[0]->seq < block->seq);
    CHECK(block->seq < calls[1]->seq);
}

TEST_CASE("without the tracer heapwise_snapshot() returns -1 and the program works", "[e2e][modes][markers]") {
    const Outcome r = run({{Paths::get().program("e2e_markers").string(), "call"}});
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    CHECK(f.one("tracing") == "0");
    CHECK(f.all("rc") == std::vector<std::string>{"first -1", "second -1"});
    CHECK(f.all("done").size() == 1);
}

TEST_CASE("the snapshot signal writes a marker and the program survives it", "[e2e][modes][markers]") {
    TempDir dir;
    Command c = traced({{Paths::get().program("e2e_markers").string(), "signal"}}, dir.path());
    c.env.emplace_back("HEAPWISE_SNAPSHOT_SIGNAL", "USR2");
    const Outcome r = run(c);
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const auto signals = markers_from(t, hwa::MarkerSource::kSignal);
    REQUIRE(signals.size() == 2);
    const Op* block = alloc_at(t, f.ptr("block"), 2222);
    REQUIRE(block != nullptr);
    CHECK(signals[0]->seq < block->seq);
    CHECK(block->seq < signals[1]->seq);
}

TEST_CASE("periodic snapshots", "[e2e][modes][markers]") {
    TempDir dir;
    Command c = traced({{Paths::get().program("e2e_markers").string(), "period"}}, dir.path());
    c.env.emplace_back("HEAPWISE_SNAPSHOT_EVERY", "100ms");
    const Outcome r = run(c);
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    const auto periodic = markers_from(t, hwa::MarkerSource::kPeriod);
    // The program runs at least 700 ms; on a loaded machine the writer may slip a period.
    CHECK(periodic.size() >= 4);
    CHECK(periodic.size() <= 40);
    for (std::size_t i = 1; i < periodic.size(); ++i) CHECK(periodic[i]->time_ns > periodic[i - 1]->time_ns);
}

namespace {

struct LossyRun {
    Outcome outcome;
    TraceFacts trace;
};

// Two threads make 300000 malloc/free pairs each through the smallest ring, in lossy mode.
LossyRun run_lossy(const fs::path& dir) {
    Command c = traced({{Paths::get().program("e2e_churn").string(), "2", "300000", "48"}}, dir);
    c.env.emplace_back("HEAPWISE_MODE", "lossy");
    c.env.emplace_back("HEAPWISE_RING_SIZE", "256");  // the smallest ring
    c.env.emplace_back("CHURN_REPORT", "1");
    LossyRun r{run(c), {}};
    r.trace = the_trace(dir);
    return r;
}

}  // namespace

TEST_CASE("lossy mode counts what it dropped", "[e2e][modes]") {
    TempDir dir;
    const auto [r, t] = run_lossy(dir.path());
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    INFO(t.summary());
    REQUIRE(t.info.has_value());
    CHECK(t.info->mode == hwa::Mode::kLossy);
    CHECK(t.damage.empty());
    REQUIRE(t.end.has_value());
    const auto lost_allocs = t.lost_allocs();
    const auto lost_frees = t.lost_frees();
    INFO("recorded " << t.allocs << " allocs, kLost records count " << lost_allocs << " allocs and " << lost_frees
                      << " frees; the end record counts " << t.end->lost_events << " lost events");
    CHECK(lost_allocs > 0);
    CHECK(lost_frees > 0);
    // The end record counts what was written, and what was lost as the kLost records do.
    CHECK(t.end->allocs == t.allocs);
    CHECK(t.end->frees == t.frees);
    CHECK(t.end->lost_events == lost_allocs + lost_frees);
}

// A drop is counted by the dropping thread and taken by the writer with exchange(), also when it
// retires an ended thread (before its state can be reused), so none goes uncounted.
TEST_CASE("lossy mode: every allocation is either written or counted as lost", "[e2e][modes]") {
    TempDir dir;
    const auto [r, t] = run_lossy(dir.path());
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const auto churn = allocs_of(t, f.exe(), f.range("churn_work")).size();
    INFO("churn_work blocks written " << churn << ", allocations counted lost " << t.lost_allocs());
    CHECK(churn + t.lost_allocs() >= f.num("allocs"));
}

TEST_CASE("sampled mode records the interval and a Poisson share of the bytes", "[e2e][modes]") {
    TempDir dir;
    // 100000 blocks of 2000 bytes, sampled every 64 KiB on average: each block is sampled with
    // probability 1 - exp(-2000/65536) = 0.0301, about 3006 blocks (sd 54).
    Command c = traced({{Paths::get().program("e2e_churn").string(), "1", "100000", "2000"}}, dir.path());
    c.env.emplace_back("HEAPWISE_MODE", "sampled");
    c.env.emplace_back("HEAPWISE_SAMPLE_INTERVAL", "64KiB");
    c.env.emplace_back("CHURN_REPORT", "1");
    const Outcome r = run(c);
    INFO(r.describe());
    REQUIRE(r.exited_with(0));
    const Facts f(r.out);
    const TraceFacts t = the_trace(dir.path());
    require_sound(t);
    CHECK(t.info->mode == hwa::Mode::kSampled);
    CHECK(t.info->sample_interval == 65536);
    const auto sampled = allocs_of(t, f.exe(), f.range("churn_work"));
    INFO("sampled " << sampled.size() << " of 100000 blocks");
    CHECK(sampled.size() >= 2600);
    CHECK(sampled.size() <= 3400);
    for (const auto& op : sampled) CHECK(op.block.size == 2000);
}

TEST_CASE("a malformed HEAPWISE_DEPTH runs the program untraced with one stderr line", "[e2e][modes][bad-input]") {
    TempDir dir;
    const std::vector<std::string> argv = {Paths::get().program("e2e_churn").string(), "2", "1000", "64"};
    const Outcome plain = run({argv});
    for (const std::string bad : {"abc", "0", "99999", "-3", "12x"}) {
        SECTION("HEAPWISE_DEPTH=" + bad) {
            Command c = traced({argv}, dir.path());
            c.env.emplace_back("HEAPWISE_DEPTH", bad);
            const Outcome r = run(c);
            INFO(r.describe());
            CHECK(r.same_status(plain));
            CHECK(r.out == plain.out);
            CHECK(lines(r.err) == 1);
            CHECK(r.err.find("HEAPWISE_DEPTH") != std::string::npos);
            CHECK(traces_in(dir.path()).empty());
        }
    }
}

TEST_CASE("an unwritable HEAPWISE_OUTPUT leaves the program's output and status intact", "[e2e][modes][bad-input]") {
    TempDir dir;
    // A path under a regular file: ENOTDIR even for root, who may write anywhere else.
    write_file(dir / "not-a-dir", "x");
    const std::vector<std::string> argv = {Paths::get().program("e2e_churn").string(), "2", "1000", "64"};
    const Outcome plain = run({argv});
    Command c{argv};
    c.env.emplace_back("LD_PRELOAD", Paths::get().preload.string());
    c.env.emplace_back("HEAPWISE_OUTPUT", (dir / "not-a-dir" / "trace.hwt").string());
    const Outcome r = run(c);
    INFO(r.describe());
    CHECK(r.same_status(plain));
    CHECK(r.exited_with(0));
    CHECK(r.out == plain.out);
    CHECK(lines(r.err) == 1);
    CHECK(traces_in(dir.path()).empty());
}
