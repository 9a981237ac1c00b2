// Finding what a `record` run wrote. The tracer names files from a pattern (%p pid, %e
// executable), and a run may leave several: a wrapper script's image before exec, forked or
// spawned children. A file belongs to this run when its process started after the run began and
// descends from the child (ProcessInfo.ppid chains); the main trace is the child's own pid with
// the latest start, i.e. the image that exec chains ended in.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "analyzer/trace_reader.hpp"
#include "cli_common.hpp"
#include "record.hpp"

namespace heapwise::cli {

namespace {

namespace fs = std::filesystem;
using namespace heapwise::analyzer;

struct Found {
    fs::path path;
    std::string shown;
    std::uint64_t pid = 0;
    std::uint64_t ppid = 0;
    std::uint64_t start_unix_ns = 0;
    bool has_info = false;
};

// A regex for a file name made from the pattern's last component.
std::regex name_regex(const std::string& base) {
    std::string re;
    for (std::size_t i = 0; i < base.size(); ++i) {
        const char c = base[i];
        if (c == '%' && i + 1 < base.size()) {
            const char d = base[++i];
            if (d == 'p') { re += "([0-9]+)"; continue; }
            if (d == 'e') { re += "[^/]*"; continue; }
            if (d == '%') { re += "%"; continue; }
            re += "%";
        }
        if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) re += '\\';
        re += c;
    }
    return std::regex(re);
}

std::string expand_dir(const std::string& dir, pid_t child) {
    std::string out;
    for (std::size_t i = 0; i < dir.size(); ++i) {
        if (dir[i] == '%' && i + 1 < dir.size() && (dir[i + 1] == 'p' || dir[i + 1] == '%')) {
            out += dir[++i] == 'p' ? std::to_string(child) : "%";
            continue;
        }
        out += dir[i];
    }
    return out;
}

class EventCount final : public EventVisitor {
public:
    std::uint64_t events = 0;
    void on_alloc(const Alloc&) override { ++events; }
    void on_free(const Free&) override { ++events; }
    void on_realloc_failed(const ReallocFailed&) override { ++events; }
};

}  // namespace

std::string traces_line(const std::string& pattern, pid_t child, std::uint64_t started_unix_ns) {
    const auto slash = pattern.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : expand_dir(pattern.substr(0, slash + 1), child);
    const std::string base = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
    const std::regex re = name_regex(base);
    const bool has_pid = base.find("%p") != std::string::npos;

    std::vector<Found> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir.empty() ? "." : dir, ec)) {
        std::smatch m;
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file(ec) || !std::regex_match(name, m, re)) continue;
        Found f;
        f.path = entry.path();
        f.shown = (slash == std::string::npos ? std::string("./") : dir) + name;
        try {
            if (auto info = peek_process_info(f.path)) {
                f.has_info = true;
                f.pid = info->pid;
                f.ppid = info->ppid;
                f.start_unix_ns = info->start_unix_ns;
                if (f.start_unix_ns < started_unix_ns) continue;  // an older run's file
            }
        } catch (const TraceError&) {
            // No readable first block (killed before its first flush?): judged by name and age.
        }
        if (!f.has_info) {
            struct stat st {};
            if (::stat(f.path.c_str(), &st) != 0) continue;
            const auto mtime = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                               static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
            if (mtime + 1'000'000'000 < started_unix_ns || !has_pid || m.size() < 2) continue;
            f.pid = std::stoull(m[1].str());
        }
        found.push_back(std::move(f));
    }

    // Keep the child and its descendants.
    std::set<std::uint64_t> ours = {static_cast<std::uint64_t>(child)};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& f : found)
            if (f.has_info && ours.count(f.ppid) && ours.insert(f.pid).second) grew = true;
    }
    std::vector<const Found*> mine;
    for (const auto& f : found)
        if (ours.count(f.pid)) mine.push_back(&f);
    if (mine.empty()) return fmt::format("no trace was written (looked for {} in {})", base, dir);

    std::sort(mine.begin(), mine.end(), [&](const Found* a, const Found* b) {
        const bool a_main = a->pid == static_cast<std::uint64_t>(child);
        const bool b_main = b->pid == static_cast<std::uint64_t>(child);
        if (a_main != b_main) return a_main;
        return a->start_unix_ns > b->start_unix_ns;  // the last image first
    });
    const Found& main = *mine.front();
    std::string line = fmt::format("trace written to {}", main.shown);
    try {
        TraceReader reader(main.path);
        EventCount count;
        const auto summary = reader.read(count);
        line += fmt::format(" ({} events, {})", group_thousands(count.events), human_bytes(reader.file_size()));
        if (!summary.clean()) line += fmt::format(", damaged: {}", summary.damage.front().what());
    } catch (const TraceError& e) {
        line += fmt::format(" (unreadable: {})", e.what());
    }
    if (main.pid != static_cast<std::uint64_t>(child)) line += fmt::format(" (from a descendant; pid {} wrote none)", child);
    if (mine.size() > 1) {
        line += fmt::format("; {} more from this run (earlier images, child processes):", mine.size() - 1);
        constexpr std::size_t kListed = 5;
        for (std::size_t i = 1; i < mine.size() && i <= kListed; ++i) line += " " + mine[i]->shown;
        if (mine.size() - 1 > kListed) line += fmt::format(" and {} others in {}", mine.size() - 1 - kListed, dir);
    }
    return line;
}

}  // namespace heapwise::cli
