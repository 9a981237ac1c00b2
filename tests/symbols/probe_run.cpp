// Probe runs, objcopy and temp dirs for the symbolizer tests (see probe_run.hpp).
#include "probe_run.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace heapwise::analyzer::test {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, sep)) out.push_back(item);
    if (!text.empty() && text.back() == sep) out.emplace_back();
    return out;
}

std::uint64_t parse_hex(const std::string& s) {
    return std::stoull(s.rfind("0x", 0) == 0 ? s.substr(2) : s, nullptr, 16);
}

std::string from_hex(const std::string& hex) {
    if (hex == "-") return {};
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
}

ProbeRun parse(const std::string& output) {
    ProbeRun run;
    for (const std::string& line : split(output, '\n')) {
        if (line.empty()) continue;
        std::vector<std::string> f = split(line, '\t');
        if (f[0] == "module" && f.size() == 5) {
            ModuleImage image;
            image.load_bias = parse_hex(f[1]);
            image.build_id = from_hex(f[2]);
            image.path = f[3];
            for (const std::string& seg : split(f[4], ',')) {
                std::vector<std::string> p = split(seg, ':');
                if (p.size() != 4) continue;
                image.segments.push_back(LoadSegment{parse_hex(p[0]), parse_hex(p[1]),
                                                     parse_hex(p[2]),
                                                     static_cast<std::uint8_t>(parse_hex(p[3]))});
            }
            run.modules.push_back(std::move(image));
        } else if (f[0] == "probe" && f.size() == 6) {
            Probe probe;
            probe.address = parse_hex(f[2]);
            for (int i = 0; i < 3; ++i) probe.lines[i] = std::stoi(f[3 + i]);
            run.probes[f[1]] = probe;
        } else if (f[0] == "stack" && f.size() == 3) {
            for (const std::string& a : split(f[2], ',')) run.grow_stack.push_back(parse_hex(a));
        } else if (f[0] == "grow_line" && f.size() == 2) {
            run.grow_line = std::stoi(f[1]);
        } else {
            throw std::runtime_error("unexpected probe output line: " + line);
        }
    }
    return run;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

std::string basename_of(std::string_view path) {
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

const ModuleImage& ProbeRun::module(std::string_view basename) const {
    for (const ModuleImage& image : modules) {
        if (basename_of(image.path) == basename) return image;
    }
    throw std::runtime_error("probe run has no module " + std::string(basename));
}

const Probe& ProbeRun::probe(const std::string& tag) const {
    auto it = probes.find(tag);
    if (it == probes.end()) throw std::runtime_error("probe run has no probe " + tag);
    return it->second;
}

ModuleMap ProbeRun::map() const {
    ModuleMap map;
    for (std::size_t i = 0; i < modules.size(); ++i) map.add(i + 1, modules[i]);
    return map;
}

const ProbeRun& run_probe(const std::string& exe) {
    static std::map<std::string, ProbeRun> runs;
    auto it = runs.find(exe);
    if (it != runs.end()) return it->second;
    std::string command = "'" + exe + "' '" HW_PROBE_LIB "'";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string output;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
    int status = ::pclose(pipe);
    if (status != 0) throw std::runtime_error(command + " failed with status " + std::to_string(status));
    return runs.emplace(exe, parse(output)).first->second;
}

void run_checked(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ);
    REQUIRE(rc == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("command: " << argv[0] << " ... " << argv.back());
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

void objcopy(const std::vector<std::string>& args) {
    std::vector<std::string> argv{HW_OBJCOPY};
    argv.insert(argv.end(), args.begin(), args.end());
    run_checked(argv);
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hw-symbols-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace heapwise::analyzer::test
