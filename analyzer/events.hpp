// The typed events a trace decodes into: one struct per format::RecordKind, with times in
// nanoseconds since the trace's start (ProcessInfo.start_monotonic_ns on CLOCK_MONOTONIC),
// absolute addresses, and stacks fully expanded (leaf first). Plain values: they may be copied
// and kept after the reader has moved on. docs/trace-format.md describes the bytes behind them.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "heapwise/trace_format.hpp"

namespace heapwise::analyzer {

using format::AllocFn;
using format::EndReason;
using format::FreeFn;
using format::MarkerSource;
using format::Mode;
using format::Unwinder;

enum class StackId : std::uint32_t {};   // 0: no stack captured
enum class ThreadId : std::uint32_t {};  // the tracer's thread index, not the kernel tid
enum class ModuleId : std::uint32_t {};

struct ProcessInfo {
    std::uint64_t pid = 0;
    std::uint64_t ppid = 0;
    std::uint64_t start_unix_ns = 0;
    std::uint64_t start_monotonic_ns = 0;
    std::uint64_t tick_ns = 1;
    std::uint8_t pointer_size = 8;
    Mode mode = Mode::kLossless;
    std::uint64_t sample_interval = 0;  // mean bytes between samples; 0 unless kSampled
    Unwinder unwinder = Unwinder::kNone;
    std::uint64_t max_depth = 0;
    std::string exe;
    std::string cwd;
    std::vector<std::string> args;
    std::string options;  // "NAME=value" lines of the HEAPWISE_* settings in force
};

struct ModuleSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t memsz = 0;
    std::uint64_t offset = 0;
    std::uint8_t flags = 0;  // PF_X / PF_W / PF_R bits of the program header
};

struct ModuleLoad {
    std::uint64_t time_ns = 0;
    ModuleId module{};
    std::uint64_t load_bias = 0;
    std::string path;
    std::string build_id;  // raw bytes, not hex
    std::vector<ModuleSegment> segments;
};

struct ModuleUnload {
    std::uint64_t time_ns = 0;
    ModuleId module{};
};

struct ThreadStart {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::uint64_t tid = 0;
    std::string name;
};

struct ThreadExit {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
};

struct ThreadName {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::string name;
};

// A stack definition. frames is the full stack (own frames, then the base's from base_from on);
// nown, base and base_from say how it was encoded, for dump and tests.
struct StackDef {
    StackId id{};
    format::FrameFormat frame_format = format::FrameFormat::kReturnAddresses;
    std::vector<std::uint64_t> frames;
    std::uint32_t nown = 0;
    StackId base{};
    std::uint32_t base_from = 0;
};

// Sized record kInternalStack (format 1.1): `stack` is the tracer's internal stack, under which
// the program's own bookkeeping allocated (tracer_live.h). Its StackDef (no frames) came first.
// Per-site figures leave it out; its blocks still replay, so their frees stay consistent.
struct InternalStack {
    StackId stack{};
};

struct Alloc {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    StackId stack{};  // frames: TraceReader::stacks().frames(stack)
    AllocFn fn = AllocFn::kMalloc;
};

struct Free {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::uint64_t addr = 0;
    FreeFn fn = FreeFn::kFree;
};

// An Alloc or a Free as one type, so a run of them fits one array: the decoder hands runs of
// kAlloc and kFree records to a visitor that takes them (on_heap_events, record_decoder.hpp).
struct HeapEvent {
    std::uint64_t time_ns = 0;
    std::uint64_t addr = 0;
    std::uint64_t size = 0;  // an Alloc's; 0 for a Free
    ThreadId thread{};
    StackId stack{};         // an Alloc's; 0 for a Free
    bool is_alloc = false;
    std::uint8_t fn = 0;     // AllocFn or FreeFn

    static HeapEvent of(const Alloc& e) noexcept {
        return {e.time_ns, e.addr, e.size, e.thread, e.stack, true, static_cast<std::uint8_t>(e.fn)};
    }
    static HeapEvent of(const Free& e) noexcept {
        return {e.time_ns, e.addr, 0, e.thread, StackId{}, false, static_cast<std::uint8_t>(e.fn)};
    }
    Alloc as_alloc() const noexcept { return {time_ns, thread, addr, size, stack, static_cast<AllocFn>(fn)}; }
    Free as_free() const noexcept { return {time_ns, thread, addr, static_cast<FreeFn>(fn)}; }
};

// realloc(addr, n) failed: the kFree(addr, kRealloc) just before is undone; addr is live again.
struct ReallocFailed {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::uint64_t addr = 0;
};

struct Marker {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    MarkerSource source = MarkerSource::kCall;
    std::string label;
};

struct Rss {
    std::uint64_t time_ns = 0;
    std::uint64_t rss_bytes = 0;
};

// Events a lossy tracer dropped in one thread since the last kLost of that thread.
struct Lost {
    std::uint64_t time_ns = 0;
    ThreadId thread{};
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::uint64_t bytes = 0;
};

struct End {
    std::uint64_t time_ns = 0;
    EndReason reason = EndReason::kExit;
    std::uint64_t events = 0;
    std::uint64_t allocs = 0;
    std::uint64_t frees = 0;
    std::uint64_t bytes_allocated = 0;
    std::uint64_t lost_events = 0;
    std::uint64_t stacks = 0;
    std::uint64_t threads = 0;
};

// Every event kind in one type, for callers that collect events (tests, small traces).
// kPadding records carry nothing and are not reported.
using Event = std::variant<ProcessInfo, ModuleLoad, ModuleUnload, ThreadStart, ThreadExit,
                           ThreadName, StackDef, Alloc, Free, ReallocFailed, Marker, Rss, Lost, End>;

// Names used by dump, stats and error messages ("malloc", "free", "exit", ...).
const char* to_string(AllocFn fn) noexcept;
const char* to_string(FreeFn fn) noexcept;
const char* to_string(MarkerSource source) noexcept;
const char* to_string(EndReason reason) noexcept;
const char* to_string(Mode mode) noexcept;
const char* to_string(Unwinder unwinder) noexcept;
const char* record_kind_name(std::uint8_t kind) noexcept;

}  // namespace heapwise::analyzer
