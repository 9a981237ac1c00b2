// Record decoding. A Cursor reads the format's field types with bounds checks and throws a
// kBadRecord error naming the record and the field; nothing here trusts a length or count from
// the file before checking it against the bytes that remain.
#include "analyzer/record_decoder.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace heapwise::analyzer {

namespace {

namespace hf = heapwise::format;

// Caps on counts read from the file, so a hostile count cannot turn one block into gigabytes of
// small objects: Linux passes at most ~2 MiB of arguments, and e_phnum is a 16-bit field.
constexpr std::uint64_t kMaxArgs = 1u << 21;
constexpr std::uint64_t kMaxSegments = 1u << 16;

class Cursor {
public:
    Cursor(const detail::BlockPosition& pos, std::uint64_t block_offset)
        : begin_(pos.begin), p_(pos.p), end_(pos.end), block_offset_(block_offset) {}

    bool done() const noexcept { return p_ == end_; }
    const std::uint8_t* position() const noexcept { return p_; }
    std::uint8_t peek() const noexcept { return *p_; }  // !done()
    void start_record(std::uint8_t kind) noexcept {
        kind_ = kind;
        record_at_ = static_cast<std::uint64_t>(p_ - begin_);
    }
    std::uint64_t offset() const noexcept { return static_cast<std::uint64_t>(p_ - begin_); }
    std::uint64_t remaining() const noexcept { return static_cast<std::uint64_t>(end_ - p_); }
    void skip(std::uint64_t n) noexcept { p_ += n; }  // n <= remaining(), checked by the caller

    [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
        throw TraceError::bad_record(block_offset_, record_at_, kind_, field, problem);
    }

    std::uint8_t u8(std::string_view field) {
        if (p_ == end_) fail(field, "record ends early");
        return *p_++;
    }
    std::uint64_t var(std::string_view field) {
        std::uint64_t v = 0;
        if (!hf::get_varint(p_, end_, v)) fail(field, p_ == end_ ? "record ends early" : "bad varint");
        return v;
    }
    std::int64_t svar(std::string_view field) { return hf::unzigzag(var(field)); }
    std::uint32_t var32(std::string_view field) {
        const std::uint64_t v = var(field);
        if (v > std::numeric_limits<std::uint32_t>::max()) fail(field, "value exceeds 32 bits");
        return static_cast<std::uint32_t>(v);
    }
    // Skips a sized extension record's len:var and body (trace_format.hpp, kFirstSizedKind).
    void skip_sized(std::string_view field) {
        const std::uint64_t n = var(field);
        if (n > static_cast<std::uint64_t>(end_ - p_)) fail(field, "record runs past the block");
        p_ += n;
    }
    std::string str(std::string_view field) {
        const std::uint64_t n = var(field);
        if (n > hf::kMaxStringSize) fail(field, "string longer than kMaxStringSize");
        if (n > static_cast<std::uint64_t>(end_ - p_)) fail(field, "string runs past the block");
        std::string s(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
        p_ += n;
        return s;
    }

private:
    const std::uint8_t* begin_;
    const std::uint8_t* p_;
    const std::uint8_t* end_;
    std::uint64_t block_offset_;
    std::uint64_t record_at_ = 0;
    std::uint8_t kind_ = 0;
};

template <typename E>
E checked_enum(Cursor& c, std::string_view field, std::uint8_t count) {
    const std::uint8_t v = c.u8(field);
    if (v >= count) c.fail(field, "unknown value " + std::to_string(v));
    return static_cast<E>(v);
}

// The block's delta state (time in ticks, last address) lives in BlockPosition, shared with the
// fast path.
class BlockDecoder {
public:
    BlockDecoder(Cursor& c, detail::BlockPosition& d, DecodeState& s, EventVisitor& v)
        : c_(c), d_(d), s_(s), v_(v) {}

    void record(std::uint8_t kind) {
        using K = hf::RecordKind;
        switch (static_cast<K>(kind)) {
            case K::kPadding: return;
            case K::kProcessInfo: return process_info();
            case K::kModuleLoad: return module_load();
            case K::kModuleUnload: {
                ModuleUnload e{time(), ModuleId{c_.var32("module")}};
                return v_.on_module_unload(e);
            }
            case K::kThreadStart: {
                ThreadStart e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.tid = c_.var("tid");
                e.name = c_.str("name");
                return v_.on_thread_start(e);
            }
            case K::kThreadExit: {
                ThreadExit e{time(), ThreadId{c_.var32("thread")}};
                return v_.on_thread_exit(e);
            }
            case K::kThreadName: {
                ThreadName e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.name = c_.str("name");
                return v_.on_thread_name(e);
            }
            case K::kStack: return stack();
            case K::kAlloc: {
                Alloc e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.addr = addr();
                e.size = c_.var("size");
                e.stack = StackId{c_.var32("stack")};
                e.fn = checked_enum<AllocFn>(c_, "fn", hf::kAllocFnCount);
                return v_.on_alloc(e);
            }
            case K::kFree: {
                Free e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.addr = addr();
                e.fn = checked_enum<FreeFn>(c_, "fn", hf::kFreeFnCount);
                return v_.on_free(e);
            }
            case K::kReallocFailed: {
                ReallocFailed e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.addr = addr();
                return v_.on_realloc_failed(e);
            }
            case K::kMarker: {
                Marker e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.source = checked_enum<MarkerSource>(c_, "source", 4);
                e.label = c_.str("label");
                return v_.on_marker(e);
            }
            case K::kRss: {
                Rss e;
                e.time_ns = time();
                e.rss_bytes = c_.var("rss_bytes");
                return v_.on_rss(e);
            }
            case K::kLost: {
                Lost e;
                e.time_ns = time();
                e.thread = ThreadId{c_.var32("thread")};
                e.allocs = c_.var("allocs");
                e.frees = c_.var("frees");
                e.bytes = c_.var("bytes");
                return v_.on_lost(e);
            }
            case K::kEnd: {
                End e;
                e.time_ns = time();
                e.reason = checked_enum<EndReason>(c_, "reason", 5);
                e.events = c_.var("events");
                e.allocs = c_.var("allocs");
                e.frees = c_.var("frees");
                e.bytes_allocated = c_.var("bytes_allocated");
                e.lost_events = c_.var("lost_events");
                e.stacks = c_.var("stacks");
                e.threads = c_.var("threads");
                return v_.on_end(e);
            }
        }
        if (kind == static_cast<std::uint8_t>(hf::SizedKind::kInternalStack)) return internal_stack();
        // A sized kind this reader does not know came with a later minor version: skip it.
        if (kind >= hf::kFirstSizedKind) return c_.skip_sized("len");
        c_.fail("kind", "unknown record kind " + std::to_string(kind));
    }

private:
    // Unsigned arithmetic wraps by definition, so hostile deltas cannot cause UB.
    std::uint64_t time() {
        d_.ticks += c_.var("dt");
        return d_.ticks * s_.tick_ns;
    }
    std::uint64_t addr() {
        d_.addr += static_cast<std::uint64_t>(c_.svar("addr"));
        return d_.addr;
    }

    void process_info() {
        ProcessInfo e;
        e.pid = c_.var("pid");
        e.ppid = c_.var("ppid");
        e.start_unix_ns = c_.var("start_unix_ns");
        e.start_monotonic_ns = c_.var("start_monotonic_ns");
        e.tick_ns = c_.var("tick_ns");
        if (e.tick_ns == 0) c_.fail("tick_ns", "zero");
        e.pointer_size = c_.u8("pointer_size");
        if (e.pointer_size != 8) c_.fail("pointer_size", "not 8");
        e.mode = checked_enum<Mode>(c_, "mode", 3);
        e.sample_interval = c_.var("sample_interval");
        e.unwinder = checked_enum<Unwinder>(c_, "unwinder", 4);
        e.max_depth = c_.var("max_depth");
        e.exe = c_.str("exe");
        e.cwd = c_.str("cwd");
        const std::uint64_t argc = c_.var("argc");
        if (argc > kMaxArgs) c_.fail("argc", "more arguments than Linux can pass");
        for (std::uint64_t i = 0; i < argc; ++i) e.args.push_back(c_.str("arg"));  // >= 1 byte each
        e.options = c_.str("options");
        s_.tick_ns = e.tick_ns;
        s_.seen_process_info = true;
        v_.on_process_info(e);
    }

    void module_load() {
        ModuleLoad e;
        e.time_ns = time();
        e.module = ModuleId{c_.var32("module")};
        e.load_bias = c_.var("load_bias");
        e.path = c_.str("path");
        e.build_id = c_.str("build_id");
        const std::uint64_t nseg = c_.var("nseg");
        if (nseg > kMaxSegments) c_.fail("nseg", "more segments than an ELF object can have");
        for (std::uint64_t i = 0; i < nseg; ++i) {  // each segment takes >= 4 bytes
            ModuleSegment seg;
            seg.vaddr = c_.var("segment.vaddr");
            seg.memsz = c_.var("segment.memsz");
            seg.offset = c_.var("segment.offset");
            seg.flags = c_.u8("segment.flags");
            e.segments.push_back(seg);
        }
        v_.on_module_load(e);
    }

    // Sized: len, then the fields; what a later minor appends inside len is skipped.
    void internal_stack() {
        const std::uint64_t len = c_.var("len");
        if (len > c_.remaining()) c_.fail("len", "record runs past the block");
        const std::uint64_t start = c_.offset();
        InternalStack e;
        e.stack = StackId{c_.var32("id")};
        if (e.stack == StackId{0}) c_.fail("id", "stack id 0 is reserved");
        const std::uint64_t used = c_.offset() - start;
        if (used > len) c_.fail("id", "field runs past the record's length");
        c_.skip(len - used);
        v_.on_internal_stack(e);
    }

    void stack() {
        StackDef e;
        e.id = StackId{c_.var32("id")};
        if (e.id == StackId{0}) c_.fail("id", "stack id 0 is reserved");
        e.frame_format = checked_enum<hf::FrameFormat>(c_, "format", 1);
        const std::uint64_t nown = c_.var("nown");
        if (nown > hf::kMaxStackDepth) c_.fail("nown", "deeper than kMaxStackDepth");
        e.nown = static_cast<std::uint32_t>(nown);
        e.frames.reserve(e.nown);
        std::uint64_t frame = 0;
        for (std::uint32_t i = 0; i < e.nown; ++i) {
            frame = i == 0 ? c_.var("frame") : frame + static_cast<std::uint64_t>(c_.svar("frame"));
            e.frames.push_back(frame);
        }
        e.base = StackId{c_.var32("base")};
        e.base_from = c_.var32("base_from");
        if (e.base != StackId{0}) {
            if (!s_.stacks.contains(e.base)) {
                ++s_.stacks_missing_base;  // its definition was in a damaged block: keep own frames
            } else {
                const auto base = s_.stacks.frames(e.base);
                if (e.base_from > base.size()) c_.fail("base_from", "past the end of the base stack");
                if (e.frames.size() + (base.size() - e.base_from) > hf::kMaxStackDepth)
                    c_.fail("base", "expanded stack deeper than kMaxStackDepth");
                e.frames.insert(e.frames.end(), base.begin() + e.base_from, base.end());
            }
        }
        s_.stacks.define(e.id, e.frames);
        v_.on_stack(e);
    }

    Cursor& c_;
    detail::BlockPosition& d_;
    DecodeState& s_;
    EventVisitor& v_;
};

bool fast_path_takes(const Cursor& c) noexcept {
    if (c.remaining() < detail::kFastPathMargin) return false;
    const std::uint8_t kind = c.peek();
    return kind == static_cast<std::uint8_t>(hf::RecordKind::kAlloc) ||
           kind == static_cast<std::uint8_t>(hf::RecordKind::kFree);
}

}  // namespace

void detail::decode_checked(BlockPosition& pos, std::uint64_t block_offset, DecodeState& state,
                            EventVisitor& visitor) {
    Cursor c(pos, block_offset);
    BlockDecoder d(c, pos, state, visitor);
    // The first record unconditionally: it may be one the fast path declined.
    do {
        const std::uint8_t kind = c.peek();
        c.start_record(kind);
        c.u8("kind");
        d.record(kind);
        ++state.records;
    } while (!c.done() && !fast_path_takes(c));
    pos.p = c.position();
}

namespace {

// pext is one fast instruction on Intel (Haswell on) and AMD family 19h on (Zen 3); Zen 1 and 2
// run it in microcode, far slower than the portable packing, so those keep the portable path.
bool pext_is_fast() noexcept {
#if defined(__x86_64__)
    if (!detail::cpu_has_bmi2()) return false;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return false;
    const bool intel = ebx == 0x756e6547 && edx == 0x49656e69 && ecx == 0x6c65746e;  // GenuineIntel
    const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;    // AuthenticAMD
    if (intel) return true;
    if (!amd || __get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    const unsigned base_family = (eax >> 8) & 0xf;
    return base_family == 0xf && base_family + ((eax >> 20) & 0xff) >= 0x19;
#else
    return false;
#endif
}

}  // namespace

bool detail::cpu_has_bmi2() noexcept {
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (ebx & (1u << 8)) != 0;
#else
    return false;
#endif
}

std::size_t detail::decode_heap_run(BlockPosition& pos, std::uint64_t tick_ns,
                                    HeapEvent* out) noexcept {
    [[maybe_unused]] static const bool use_pext = pext_is_fast();
#if defined(__x86_64__)
    if (use_pext) return fast_heap_run<true>(pos, tick_ns, out);
#endif
    return fast_heap_run<false>(pos, tick_ns, out);
}

void decode_block(std::span<const std::uint8_t> records, std::uint64_t block_offset,
                  DecodeState& state, EventVisitor& visitor) {
    decode_block_with(records, block_offset, state, visitor);
}

}  // namespace heapwise::analyzer
