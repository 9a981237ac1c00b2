// HEAPWISE_* parsing (defaults, every variable's good values, malformed values with their
// message) and output path patterns (%p, %e, %%, the .<pid> suffix for children).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "options.hpp"

namespace hp = heapwise::preload;
namespace env = heapwise::env;
using Codec = heapwise::format::BlockFlags;
using Env = std::map<std::string, std::string>;

namespace {
const char* lookup(const char* name, void* ctx) {
    auto* env = static_cast<Env*>(ctx);
    auto it = env->find(name);
    return it == env->end() ? nullptr : it->second.c_str();
}
bool parse(Env env, hp::Options& o, std::string& message) {
    hp::OptionError err;
    const bool ok = hp::parse_options(lookup, &env, o, err);
    message = err.message;
    return ok;
}
std::string expand(const char* pattern, int pid, const char* exe, bool child) {
    char out[256];
    hp::OptionError err;
    if (!hp::expand_output_path(pattern, pid, exe, child, out, sizeof(out), err)) return std::string("ERR ") + err.message;
    return out;
}
}  // namespace

TEST_CASE("no variables give the documented defaults", "[preload][options]") {
    hp::Options o;
    std::string msg;
    REQUIRE(parse({}, o, msg));
    CHECK(std::string(o.output) == "heapwise.%e.%p.hwt");
    CHECK(o.depth == 64);
    CHECK(o.unwinder == heapwise::format::Unwinder::kLibunwind);
    CHECK(o.mode == heapwise::format::Mode::kLossless);
    CHECK(o.follow_exec);
    CHECK(o.fork == hp::ForkMode::kTrace);
    CHECK(o.snapshot_signal == 0);
    CHECK(o.snapshot_every_ns == 0);
    CHECK(o.rss_interval_ns == 100'000'000);
    CHECK(o.flush_interval_ns == 1'000'000'000);
    CHECK(o.ring_size == 16384);
    CHECK(o.compression == env::Compression{Codec::kLz4, 0});
    CHECK_FALSE(o.live);
}

TEST_CASE("good values are taken", "[preload][options]") {
    hp::Options o;
    std::string msg;
    REQUIRE(parse({{"HEAPWISE_OUTPUT", "/tmp/t.%p.hwt"}, {"HEAPWISE_DEPTH", "48"}, {"HEAPWISE_UNWIND", "fp"},
                   {"HEAPWISE_MODE", "sampled"}, {"HEAPWISE_SAMPLE_INTERVAL", "512KiB"},
                   {"HEAPWISE_FOLLOW_EXEC", "0"}, {"HEAPWISE_FORK", "stop"},
                   {"HEAPWISE_SNAPSHOT_SIGNAL", "SIGUSR2"}, {"HEAPWISE_SNAPSHOT_EVERY", "10s"},
                   {"HEAPWISE_RSS_INTERVAL", "off"}, {"HEAPWISE_FLUSH_INTERVAL", "250ms"},
                   {"HEAPWISE_RING_SIZE", "1024"}, {"HEAPWISE_COMPRESSION", "0"}, {"HEAPWISE_LIVE", "1"}},
                  o, msg));
    CHECK(std::string(o.output) == "/tmp/t.%p.hwt");
    CHECK(o.depth == 48);
    CHECK(o.unwinder == heapwise::format::Unwinder::kFramePointer);
    CHECK(o.mode == heapwise::format::Mode::kSampled);
    CHECK(o.sample_interval == 524288);
    CHECK_FALSE(o.follow_exec);
    CHECK(o.fork == hp::ForkMode::kStop);
    CHECK(o.snapshot_signal == 12);
    CHECK(o.snapshot_every_ns == 10'000'000'000ull);
    CHECK(o.rss_interval_ns == 0);
    CHECK(o.flush_interval_ns == 250'000'000);
    CHECK(o.ring_size == 1024);
    CHECK(o.compression == env::Compression{Codec::kRaw, 0});
    CHECK(o.live);
    char text[1024];
    const std::size_t n = hp::describe_options(o, text, sizeof(text));
    const std::string s(text, n);
    CHECK(s.find("HEAPWISE_DEPTH=48\n") != std::string::npos);
    CHECK(s.find("HEAPWISE_MODE=sampled\n") != std::string::npos);
    CHECK(s.find("HEAPWISE_SAMPLE_INTERVAL=524288\n") != std::string::npos);
    CHECK(s.find("HEAPWISE_LIVE=1\n") != std::string::npos);
    CHECK(s.find("HEAPWISE_COMPRESSION=none\n") != std::string::npos);
}

TEST_CASE("HEAPWISE_COMPRESSION: codec names, zstd levels, plain numbers as before",
          "[preload][options]") {
    const std::pair<const char*, env::Compression> good[] = {
        {"lz4", {Codec::kLz4, 0}},   {"zstd", {Codec::kZstd, 1}},   {"zstd:1", {Codec::kZstd, 1}},
        {"zstd:3", {Codec::kZstd, 3}}, {"zstd:19", {Codec::kZstd, 19}}, {"none", {Codec::kRaw, 0}},
        {"0", {Codec::kRaw, 0}},     {"1", {Codec::kZstd, 1}},      {"19", {Codec::kZstd, 19}},
        {"07", {Codec::kZstd, 7}},
    };
    for (const auto& [value, want] : good) {
        INFO(value);
        hp::Options o;
        std::string msg;
        REQUIRE(parse({{"HEAPWISE_COMPRESSION", value}}, o, msg));
        CHECK(o.compression == want);
        // The description in the trace names the codec so it reads back the same.
        char text[1024];
        const std::string d(text, hp::describe_options(o, text, sizeof(text)));
        const std::string line = want.codec == Codec::kLz4    ? "lz4"
                                 : want.codec == Codec::kRaw ? "none"
                                                             : "zstd:" + std::to_string(want.level);
        CHECK(d.find("\nHEAPWISE_COMPRESSION=" + line + "\n") != std::string::npos);
        env::Compression again;
        CHECK((env::parse_compression(line.c_str(), again) && again == want));
    }
    for (const char* bad : {"", "20", "zstd:0", "zstd:20", "zstd:", "zstd:x", "lz4:1", "LZ4", "zstd3",
                            "-1", "1 ", "999999999999999999999", "gzip", "none:1"}) {
        INFO("'" << bad << "'");
        hp::Options o;
        std::string msg;
        CHECK_FALSE(parse({{"HEAPWISE_COMPRESSION", bad}}, o, msg));
        CHECK(msg == std::string("HEAPWISE_COMPRESSION=") + bad +
                         ": expected lz4, zstd, zstd:LEVEL (1 to 19) or none (a bare number is a zstd level, 0 none)");
    }
}

TEST_CASE("units, signals and durations", "[preload][options]") {
    std::uint64_t v = 0;
    CHECK((hp::parse_bytes("4096", v) && v == 4096));
    CHECK((hp::parse_bytes("1M", v) && v == 1u << 20));
    CHECK((hp::parse_bytes("2GiB", v) && v == 2ull << 30));
    CHECK_FALSE(hp::parse_bytes("12X", v));
    CHECK_FALSE(hp::parse_bytes("-1", v));
    CHECK_FALSE(hp::parse_bytes("99999999999999999999", v));
    CHECK((hp::parse_duration("500ms", v) && v == 500'000'000));
    CHECK((hp::parse_duration("2m", v) && v == 120'000'000'000ull));
    CHECK((hp::parse_duration("0", v) && v == 0));
    CHECK_FALSE(hp::parse_duration("10", v));
    CHECK_FALSE(hp::parse_duration("s", v));
    int sig = -1;
    CHECK((hp::parse_signal("USR1", sig) && sig == 10));
    CHECK((hp::parse_signal("34", sig) && sig == 34));
    CHECK((hp::parse_signal("off", sig) && sig == 0));
    CHECK_FALSE(hp::parse_signal("KILL", sig));
    CHECK_FALSE(hp::parse_signal("9", sig));
    CHECK_FALSE(hp::parse_signal("NOPE", sig));
}

TEST_CASE("a malformed value names the variable and the expectation", "[preload][options]") {
    const std::pair<Env, std::string> cases[] = {
        {{{"HEAPWISE_DEPTH", "0"}}, "HEAPWISE_DEPTH=0: expected a number of frames from 1 to 1024"},
        {{{"HEAPWISE_DEPTH", "2000"}}, "HEAPWISE_DEPTH=2000: expected a number of frames from 1 to 1024"},
        {{{"HEAPWISE_DEPTH", "12abc"}}, "HEAPWISE_DEPTH=12abc: expected a number of frames from 1 to 1024"},
        {{{"HEAPWISE_UNWIND", "dwarf"}}, "HEAPWISE_UNWIND=dwarf: expected libunwind, fp or cached"},
        {{{"HEAPWISE_MODE", "fast"}}, "HEAPWISE_MODE=fast: expected lossless, lossy or sampled"},
        {{{"HEAPWISE_SAMPLE_INTERVAL", "0"}}, "HEAPWISE_SAMPLE_INTERVAL=0: expected a size in bytes such as 512KiB"},
        {{{"HEAPWISE_FOLLOW_EXEC", "yes"}}, "HEAPWISE_FOLLOW_EXEC=yes: expected 1 or 0"},
        {{{"HEAPWISE_FORK", "both"}}, "HEAPWISE_FORK=both: expected trace or stop"},
        {{{"HEAPWISE_SNAPSHOT_SIGNAL", "SIGFOO"}}, "HEAPWISE_SNAPSHOT_SIGNAL=SIGFOO: expected a signal name such as USR2, a number, or off"},
        {{{"HEAPWISE_SNAPSHOT_EVERY", "10"}}, "HEAPWISE_SNAPSHOT_EVERY=10: expected a duration of at least 1ms such as 10s, or off"},
        {{{"HEAPWISE_RSS_INTERVAL", "5us"}}, "HEAPWISE_RSS_INTERVAL=5us: expected a duration of at least 1ms such as 100ms, or off"},
        {{{"HEAPWISE_FLUSH_INTERVAL", "5s"}}, "HEAPWISE_FLUSH_INTERVAL=5s: expected a duration from 1ms to 1s"},
        {{{"HEAPWISE_RING_SIZE", "1000"}}, "HEAPWISE_RING_SIZE=1000: expected a power of two from 256 to 16777216"},
        {{{"HEAPWISE_COMPRESSION", "22"}}, "HEAPWISE_COMPRESSION=22: expected lz4, zstd, zstd:LEVEL (1 to 19) or none (a bare number is a zstd level, 0 none)"},
        {{{"HEAPWISE_LIVE", "yes"}}, "HEAPWISE_LIVE=yes: expected 1 or 0"},
        {{{"HEAPWISE_OUTPUT", ""}}, "HEAPWISE_OUTPUT=: expected a file path (at most 1023 bytes)"},
        {{{"HEAPWISE_OUTPUT", "/tmp/x.%q"}}, "HEAPWISE_OUTPUT=/tmp/x.%q: unknown %-sequence (use %p, %e or %%)"},
        {{{"HEAPWISE_OUTPUT", "/tmp/x%"}}, "HEAPWISE_OUTPUT=/tmp/x%: unknown %-sequence (use %p, %e or %%)"},
    };
    for (const auto& [env, want] : cases) {
        hp::Options o;
        std::string msg;
        CHECK_FALSE(parse(env, o, msg));
        CHECK(msg == want);
    }
}

TEST_CASE("output path patterns", "[preload][options]") {
    CHECK(expand("heapwise.%e.%p.hwt", 42, "python3.11", false) == "heapwise.python3.11.42.hwt");
    CHECK(expand("/tmp/%e-%%-%p", 7, "ls", false) == "/tmp/ls-%-7");
    CHECK(expand("/tmp/out.hwt", 99, "ls", false) == "/tmp/out.hwt");
    // Children (and processes that are not the root of the traced tree) never share a file.
    CHECK(expand("/tmp/out.hwt", 99, "ls", true) == "/tmp/out.99.hwt");
    CHECK(expand("/tmp/out", 99, "ls", true) == "/tmp/out.99");
    CHECK(expand("/tmp/dir.d/out", 99, "ls", true) == "/tmp/dir.d/out.99");
    CHECK(expand("/tmp/.trace", 99, "ls", true) == "/tmp/.trace.99");
    CHECK(expand("/tmp/t.%p.hwt", 99, "ls", true) == "/tmp/t.99.hwt");  // %p already unique
    CHECK(expand("x.%z", 1, "ls", false).rfind("ERR ", 0) == 0);
    CHECK(hp::pattern_has_pid("a%pb"));
    CHECK_FALSE(hp::pattern_has_pid("a%%pb"));
}
