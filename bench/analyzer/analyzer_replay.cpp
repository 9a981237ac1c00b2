// One whole analysis of a trace as the report and leaks commands do it, for whole-process
// measurements (compare.sh, big_trace.sh): replay_trace with start, peak and end snapshots and a
// growth series (markers, or 10 time slices), every snapshot grouped by function with symbols,
// leaks at exit and growth leaks; or the timeline alone. Prints the figures, the CPU time of the
// replay and of the grouping (with symbolization) apart, and its own CPU time and peak RSS
// (getrusage), so /usr/bin/time is only needed as a cross-check.
//
//   analyzer_replay TRACE [--timeline]
#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "analyzer/replay/leaks.hpp"
#include "analyzer/timeline/timeline.hpp"

using namespace heapwise::analyzer;

namespace {

void print_usage() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::printf("cpu_s %.3f max_rss_kib %ld\n", cpu, ru.ru_maxrss);
}

double cpu_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int analyze(const char* path) {
    ReplayRequest req;
    req.points = {parse_point("start"), parse_point("peak"), parse_point("end")};
    req.growth_slices = 10;
    const double t0 = cpu_now();
    const ReplayResult r = replay_trace(path, req);
    const double t1 = cpu_now();
    StackSymbols symbols(r);
    const GroupedSnapshot end = group(r.points[2], GroupBy::kFunction, &symbols);
    const auto leaks = leaks_at_end(end, 10);
    std::vector<GroupedSnapshot> series;
    for (const Snapshot& s : r.growth) series.push_back(group(s, GroupBy::kFunction, &symbols));
    const auto growth = growth_leaks(series);
    const auto diff = compare(group(r.points[0], GroupBy::kFunction, &symbols),
                              group(r.points[1], GroupBy::kFunction, &symbols), DiffOptions{10, 0});
    const double t2 = cpu_now();
    std::printf("events %llu records %llu peak_bytes %llu end_bytes %llu stacks %zu snapshots %zu "
                "leak_rows %zu growth_leaks %zu diff_rows %zu\n",
                static_cast<unsigned long long>(r.facts.allocs + r.facts.frees),
                static_cast<unsigned long long>(r.facts.records),
                static_cast<unsigned long long>(r.facts.peak_bytes),
                static_cast<unsigned long long>(r.facts.end_bytes), r.points[2].stacks.size(),
                r.points.size() + r.growth.size(), leaks.size(), growth.size(), diff.size());
    std::printf("replay_cpu_s %.3f group_cpu_s %.3f\n", t1 - t0, t2 - t1);
    return 0;
}

int timeline(const char* path) {
    const Timeline t = build_timeline(path);
    std::printf("events %llu heap_points %zu rss_points %zu peak_bytes %llu csv_bytes %zu svg_bytes %zu\n",
                static_cast<unsigned long long>(t.heap_events), t.heap.size(), t.rss.size(),
                static_cast<unsigned long long>(t.peak_bytes), timeline_csv(t).size(), timeline_svg(t).size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || (argc == 3 && std::strcmp(argv[2], "--timeline") != 0) || argc > 3) {
        std::fprintf(stderr, "usage: analyzer_replay TRACE [--timeline]\n");
        return 2;
    }
    try {
        const int rc = argc == 3 ? timeline(argv[1]) : analyze(argv[1]);
        print_usage();
        return rc;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "analyzer_replay: %s\n", e.what());
        return 2;
    }
}
