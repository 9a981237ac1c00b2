// Grouping and compare_to over real symbols: the traces' stacks are return addresses inside this
// test executable's own functions, and the traces' module map points at this executable, so the
// symbolizer names those functions, this file and the lines of the calls. Also stack-level diffs:
// row order, top, min_growth, and a diff between two traces.
#include <link.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "analyzer/replay/grouping.hpp"
#include "trace_bytes.hpp"
#include "trace_writer.hpp"

using namespace heapwise;
using namespace heapwise::analyzer;
using test::kMs;

extern "C" {
[[gnu::noinline]] std::uintptr_t hw_replay_capture_ra() {
    auto ra = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
    asm volatile("" : "+r"(ra));
    return ra;
}
std::uintptr_t g_ra_alpha, g_ra_beta;
int g_line_alpha, g_line_beta;
[[gnu::noinline]] void hw_replay_site_alpha() {
    g_line_alpha = __LINE__; g_ra_alpha = hw_replay_capture_ra();
    asm volatile("");
}
[[gnu::noinline]] void hw_replay_site_beta() {
    g_line_beta = __LINE__; g_ra_beta = hw_replay_capture_ra();
    asm volatile("");
}
}

namespace {

struct SelfModule {
    std::string path;
    std::uint64_t bias = 0;
    std::vector<preload::SegmentRecord> segments;
};

SelfModule self_module() {
    SelfModule m;
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
    REQUIRE(n > 0);
    m.path.assign(buf, static_cast<std::size_t>(n));
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            auto* self = static_cast<SelfModule*>(data);
            if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') return 0;
            self->bias = info->dlpi_addr;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD) continue;
                self->segments.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset,
                                          static_cast<std::uint8_t>(ph.p_flags)});
            }
            return 1;  // the main program comes first
        },
        &m);
    REQUIRE(!m.segments.empty());
    return m;
}

// alpha: `alpha_bytes` live at the end; beta: 64 B allocated before marker "half", freed after.
void write_symbolized(const std::filesystem::path& path, std::uint64_t alpha_bytes, bool beta) {
    hw_replay_site_alpha();
    hw_replay_site_beta();
    const SelfModule self = self_module();
    test::TraceWriter w(path);
    w.enc().module_load(0, 1, self.bias, self.path, {}, self.segments);
    w.stack(1, {g_ra_alpha});
    w.stack(2, {g_ra_beta});
    w.alloc(1 * kMs, 0x1000, alpha_bytes, 1);
    if (beta) w.alloc(2 * kMs, 0x2000, 64, 2);
    w.marker(3 * kMs, "half");
    if (beta) w.free(4 * kMs, 0x2000);
}

}  // namespace

TEST_CASE("group by function, file, lineno, module and traceback names this file's sites",
          "[replay]") {
    test::TempDir dir;
    write_symbolized(dir / "t.hwt", 100, true);
    ReplayRequest req;
    req.points = {parse_point("half"), parse_point("end")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    StackSymbols symbols(r);

    const GroupedSnapshot by_fn = group(r.points[0], GroupBy::kFunction, &symbols);
    REQUIRE(by_fn.groups.size() == 2);
    CHECK(by_fn.groups.at("hw_replay_site_alpha").bytes == 100);
    CHECK(by_fn.groups.at("hw_replay_site_beta").bytes == 64);
    CHECK(by_fn.bytes == 164);

    const GroupedSnapshot by_line = group(r.points[0], GroupBy::kLineno, &symbols);
    const std::string file = by_line.groups.begin()->second.site.file;
    CHECK(file.ends_with("tests/replay/grouping_test.cpp"));
    CHECK(by_line.groups.at(file + ":" + std::to_string(g_line_alpha)).bytes == 100);
    CHECK(by_line.groups.at(file + ":" + std::to_string(g_line_beta)).site.line ==
          static_cast<std::uint32_t>(g_line_beta));

    const GroupedSnapshot by_file = group(r.points[0], GroupBy::kFile, &symbols);
    REQUIRE(by_file.groups.size() == 1);
    CHECK(by_file.groups.at(file).bytes == 164);
    CHECK(by_file.groups.at(file).count == 2);

    const GroupedSnapshot by_module = group(r.points[0], GroupBy::kModule, &symbols);
    REQUIRE(by_module.groups.size() == 1);
    CHECK(by_module.groups.begin()->first == std::filesystem::path(self_module().path).filename());

    const GroupedSnapshot by_tb = group(r.points[0], GroupBy::kTraceback, &symbols);
    REQUIRE(by_tb.groups.size() == 2);
    for (const auto& [key, g] : by_tb.groups) {
        REQUIRE(g.traceback.size() == 1);
        CHECK(g.traceback[0] == key);
    }

    // diff half -> end: beta freed (-64), alpha unchanged.
    const std::vector<DiffRow> rows =
        compare(by_fn, group(r.points[1], GroupBy::kFunction, &symbols));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].key == "hw_replay_site_beta");
    CHECK(rows[0].size == 0);
    CHECK(rows[0].size_diff == -64);
    CHECK(rows[0].count_diff == -1);
    CHECK(rows[1].key == "hw_replay_site_alpha");
    CHECK(rows[1].size_diff == 0);
    CHECK(rows[1].size == 100);
    CHECK(symbols.warnings().empty());
}

TEST_CASE("filters keep or drop sites by function, file or module", "[replay]") {
    test::TempDir dir;
    write_symbolized(dir / "t.hwt", 100, true);
    ReplayRequest req;
    req.points = {parse_point("half")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    StackSymbols symbols(r);
    auto keys = [&](GroupFilters f) {
        std::vector<std::string> out;
        for (const DiffRow& row : statistics(group(r.points[0], GroupBy::kFunction, &symbols, f))) {
            out.push_back(row.key);
        }
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(keys({{parse_filter("function:*alpha")}, {}}) == V{"hw_replay_site_alpha"});
    CHECK(keys({{}, {parse_filter("function:*alpha")}}) == V{"hw_replay_site_beta"});
    CHECK(keys({{}, {parse_filter("file:*/grouping_test.cpp")}}).empty());
    CHECK(keys({{parse_filter("module:replay_*")}, {}}) ==
          V{"hw_replay_site_alpha", "hw_replay_site_beta"});
    CHECK(keys({{parse_filter("module:libc*")}, {}}).empty());
}

TEST_CASE("diff between two traces, each symbolized on its own", "[replay]") {
    test::TempDir dir;
    write_symbolized(dir / "before.hwt", 100, false);
    write_symbolized(dir / "after.hwt", 300, true);
    ReplayRequest req;
    req.points = {parse_point("half")};
    const ReplayResult before = replay_trace(dir / "before.hwt", req);
    const ReplayResult after = replay_trace(dir / "after.hwt", req);
    StackSymbols sb(before), sa(after);
    const auto rows = compare(group(before.points[0], GroupBy::kFunction, &sb),
                              group(after.points[0], GroupBy::kFunction, &sa));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].key == "hw_replay_site_alpha");
    CHECK(rows[0].size == 300);
    CHECK(rows[0].size_diff == 200);
    CHECK(rows[0].count_diff == 0);
    CHECK(rows[1].key == "hw_replay_site_beta");
    CHECK(rows[1].size_diff == 64);
    CHECK(rows[1].count_diff == 1);
}

TEST_CASE("stack-level diff: order by |size_diff| then size, top and min_growth", "[replay]") {
    test::TempDir dir;
    {
        test::TraceWriter w(dir / "t.hwt");
        for (std::uint64_t s = 1; s <= 4; ++s) w.stack(s, {0x401000 + s});
        w.alloc(1 * kMs, 0x1000, 500, 1);  // s1: 500 before, 100 after: -400
        w.alloc(1 * kMs, 0x1100, 300, 2);  // s2: 300 before and after: 0, size 300
        w.marker(2 * kMs, "a");
        w.free(3 * kMs, 0x1000);
        w.alloc(3 * kMs, 0x1200, 100, 1);
        w.alloc(3 * kMs, 0x1300, 400, 3);  // s3: +400 (ties s1 on |diff|, larger size first)
        w.alloc(3 * kMs, 0x1400, 150, 4);  // s4: +150
    }
    ReplayRequest req;
    req.points = {parse_point("a"), parse_point("end")};
    const ReplayResult r = replay_trace(dir / "t.hwt", req);
    const GroupedSnapshot a = group(r.points[0], GroupBy::kStack, nullptr);
    const GroupedSnapshot b = group(r.points[1], GroupBy::kStack, nullptr);
    auto keys = [](const std::vector<DiffRow>& rows) {
        std::vector<std::string> out;
        for (const auto& row : rows) out.push_back(row.key + ":" + std::to_string(row.size_diff));
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(keys(compare(a, b)) == V{"stack#3:400", "stack#1:-400", "stack#4:150", "stack#2:0"});
    CHECK(keys(compare(a, b, {2, 0})) == V{"stack#3:400", "stack#1:-400"});
    CHECK(keys(compare(a, b, {0, 150})) == V{"stack#3:400", "stack#4:150"});
    CHECK(keys(compare(a, b, {0, 151})) == V{"stack#3:400"});
    CHECK(keys(statistics(b)) == V{"stack#3:400", "stack#2:300", "stack#4:150", "stack#1:100"});
    CHECK_THROWS_AS(group(r.points[0], GroupBy::kFunction, nullptr), std::invalid_argument);
}
