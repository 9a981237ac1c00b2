// The traced-run helpers of tests/leaks: plain processes through run_process, files in real temp
// dirs, Catch2 failures (never exceptions) when a run does not produce what a test needs.
#include "traced_run.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "run_process.hpp"

namespace heapwise::test {

std::string env_path(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') FAIL("the meson test sets " << name);
    return v;
}

TracedRun run_traced(const std::string& program, const std::filesystem::path& dir) {
    RunOptions options;
    options.env["LD_PRELOAD"] = env_path("HW_LEAKS_PRELOAD");
    options.env["HEAPWISE_OUTPUT"] = (dir / "trace.%p.hwt").string();
    options.unset = {"HEAPWISE_MODE", "HEAPWISE_SAMPLE_INTERVAL", "HEAPWISE_DEPTH", "HEAPWISE_UNWIND",
                     "HEAPWISE_SNAPSHOT_EVERY", "HEAPWISE_SNAPSHOT_SIGNAL", "HEAPWISE_ROOT_PID"};
    const RunResult r = run({program}, options);
    INFO("stderr: " << r.err);
    REQUIRE(r.exited(0));
    TracedRun out;
    out.out = r.out;
    int traces = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".hwt") {
            out.trace = entry.path();
            ++traces;
        }
    }
    REQUIRE(traces == 1);
    return out;
}

std::map<std::string, std::uint32_t> leak_site_lines(const std::filesystem::path& source) {
    std::ifstream in(source);
    REQUIRE(in.good());
    std::map<std::string, std::uint32_t> lines;
    std::uint32_t n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
        const auto at = line.find("LEAK-SITE:");
        if (at == std::string::npos) continue;
        const auto start = at + 10;
        auto end = line.find_first_of(" */", start);
        if (end == std::string::npos) end = line.size();
        lines[line.substr(start, end - start)] = n;
    }
    return lines;
}

bool site_at(const analyzer::SiteFrame& site, std::string_view file_name, std::uint32_t line) {
    const std::string_view file(site.file);
    return site.line == line && file.size() >= file_name.size() &&
           file.substr(file.size() - file_name.size()) == file_name &&
           (file.size() == file_name.size() || file[file.size() - file_name.size() - 1] == '/');
}

}  // namespace heapwise::test
