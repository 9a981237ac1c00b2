// BlockEncoder and TraceFileWriter (see encoder.hpp). Field order follows the comments of
// trace_format.hpp exactly; keep them in step. zstd gets an mmap-backed allocator and LZ4 an
// mmap'd state (LZ4_compress_fast_extState allocates nothing) so the writer thread never touches
// the traced malloc.
#include "encoder.hpp"

#include <errno.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_customMem: keep zstd off the traced malloc
#include <lz4.h>
#include <zstd.h>

#include <cstring>

#include "sys.hpp"

namespace heapwise::preload {

using format::RecordKind;

namespace {
constexpr std::size_t kSmallRecord = 64;  // bound for every fixed-field record

std::string_view clip(std::string_view s) noexcept {
    return s.size() > format::kMaxStringSize ? s.substr(0, format::kMaxStringSize) : s;
}

// zstd's allocator: whole mappings with the size kept in front.
void* zstd_alloc(void*, std::size_t n) noexcept {
    auto* p = static_cast<std::size_t*>(sys::map_pages(n + 16));
    if (p == nullptr) return nullptr;
    *p = n + 16;
    return reinterpret_cast<char*>(p) + 16;
}
void zstd_free(void*, void* q) noexcept {
    if (q == nullptr) return;
    auto* p = reinterpret_cast<std::size_t*>(static_cast<char*>(q) - 16);
    sys::unmap_pages(p, *p);
}
}  // namespace

BlockEncoder::BlockEncoder(std::size_t initial_capacity) noexcept {
    capacity_ = sys::page_round(initial_capacity < 4096 ? 4096 : initial_capacity);
    buf_ = static_cast<std::uint8_t*>(sys::map_pages(capacity_));
    if (buf_ == nullptr) {
        capacity_ = 0;
        ok_ = false;
    }
}

BlockEncoder::~BlockEncoder() { sys::unmap_pages(buf_, capacity_); }

void BlockEncoder::reset() noexcept {
    size_ = 0;
    last_time_ = 0;
    last_addr_ = 0;
}

bool BlockEncoder::reserve(std::size_t n) noexcept {
    if (!ok_) return false;
    if (size_ + n <= capacity_) return true;
    std::size_t cap = capacity_ * 2;
    while (cap < size_ + n) cap *= 2;
    void* p = sys::remap_pages(buf_, capacity_, cap);
    if (p == nullptr) {
        ok_ = false;
        return false;
    }
    buf_ = static_cast<std::uint8_t*>(p);
    capacity_ = sys::page_round(cap);
    return true;
}

void BlockEncoder::var(std::uint64_t v) noexcept { size_ = format::put_varint(buf_ + size_, v) - buf_; }

void BlockEncoder::str(std::string_view s) noexcept {
    s = clip(s);
    var(s.size());
    if (s.empty()) return;  // a default string_view has a null data(), which memcpy may not take
    std::memcpy(buf_ + size_, s.data(), s.size());
    size_ += s.size();
}

void BlockEncoder::time(std::uint64_t t) noexcept {
    var(t >= last_time_ ? t - last_time_ : 0);
    if (t > last_time_) last_time_ = t;
}

void BlockEncoder::address(std::uint64_t a) noexcept {
    svar(static_cast<std::int64_t>(a - last_addr_));
    last_addr_ = a;
}

void BlockEncoder::padding() noexcept {
    if (reserve(1)) kind(RecordKind::kPadding);
}

void BlockEncoder::process_info(const ProcessInfoRecord& r) noexcept {
    std::size_t need = kSmallRecord * 2 + r.exe.size() + r.cwd.size() + r.options.size() + 40;
    for (const auto& a : r.argv) need += a.size() + format::kMaxVarintSize;
    if (!reserve(need)) return;
    kind(RecordKind::kProcessInfo);
    var(r.pid);
    var(r.ppid);
    var(r.start_unix_ns);
    var(r.start_monotonic_ns);
    var(r.tick_ns);
    u8(static_cast<std::uint8_t>(sizeof(void*)));
    u8(static_cast<std::uint8_t>(r.mode));
    var(r.sample_interval);
    u8(static_cast<std::uint8_t>(r.unwinder));
    var(r.max_depth);
    str(r.exe);
    str(r.cwd);
    var(r.argv.size());
    for (const auto& a : r.argv) str(a);
    str(r.options);
}

void BlockEncoder::module_load(std::uint64_t t, std::uint64_t module, std::uint64_t load_bias,
                               std::string_view path, std::span<const std::uint8_t> build_id,
                               std::span<const SegmentRecord> segments) noexcept {
    const std::size_t need =
        kSmallRecord + path.size() + build_id.size() + segments.size() * (3 * 10 + 1);
    if (!reserve(need)) return;
    kind(RecordKind::kModuleLoad);
    time(t);
    var(module);
    var(load_bias);
    str(path);
    str({reinterpret_cast<const char*>(build_id.data()), build_id.size()});
    var(segments.size());
    for (const auto& s : segments) {
        var(s.vaddr);
        var(s.memsz);
        var(s.offset);
        u8(s.flags);
    }
}

void BlockEncoder::module_unload(std::uint64_t t, std::uint64_t module) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kModuleUnload);
    time(t);
    var(module);
}

void BlockEncoder::thread_start(std::uint64_t t, std::uint64_t thread, std::uint64_t tid,
                                std::string_view name) noexcept {
    if (!reserve(kSmallRecord + name.size())) return;
    kind(RecordKind::kThreadStart);
    time(t);
    var(thread);
    var(tid);
    str(name);
}

void BlockEncoder::thread_exit(std::uint64_t t, std::uint64_t thread) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kThreadExit);
    time(t);
    var(thread);
}

void BlockEncoder::thread_name(std::uint64_t t, std::uint64_t thread,
                               std::string_view name) noexcept {
    if (!reserve(kSmallRecord + name.size())) return;
    kind(RecordKind::kThreadName);
    time(t);
    var(thread);
    str(name);
}

void BlockEncoder::stack(std::uint64_t id, std::span<const std::uintptr_t> own, std::uint64_t base,
                         std::uint64_t base_from) noexcept {
    if (!reserve(kSmallRecord + own.size() * format::kMaxVarintSize)) return;
    kind(RecordKind::kStack);
    var(id);
    u8(static_cast<std::uint8_t>(format::FrameFormat::kReturnAddresses));
    var(own.size());
    for (std::size_t i = 0; i < own.size(); ++i) {
        if (i == 0) {
            var(own[0]);
        } else {
            svar(static_cast<std::int64_t>(own[i] - own[i - 1]));
        }
    }
    var(base);
    var(base_from);
}

void BlockEncoder::internal_stack(std::uint64_t id) noexcept {
    if (!reserve(kSmallRecord)) return;
    u8(static_cast<std::uint8_t>(format::SizedKind::kInternalStack));
    std::uint8_t field[format::kMaxVarintSize];
    const auto len = static_cast<std::uint64_t>(format::put_varint(field, id) - field);
    var(len);
    var(id);
}

void BlockEncoder::alloc(std::uint64_t t, std::uint64_t thread, std::uint64_t addr,
                         std::uint64_t size, std::uint64_t stack, format::AllocFn fn) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kAlloc);
    time(t);
    var(thread);
    address(addr);
    var(size);
    var(stack);
    u8(static_cast<std::uint8_t>(fn));
}

void BlockEncoder::free(std::uint64_t t, std::uint64_t thread, std::uint64_t addr,
                        format::FreeFn fn) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kFree);
    time(t);
    var(thread);
    address(addr);
    u8(static_cast<std::uint8_t>(fn));
}

void BlockEncoder::realloc_failed(std::uint64_t t, std::uint64_t thread, std::uint64_t addr) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kReallocFailed);
    time(t);
    var(thread);
    address(addr);
}

void BlockEncoder::marker(std::uint64_t t, std::uint64_t thread, format::MarkerSource source,
                          std::string_view label) noexcept {
    if (!reserve(kSmallRecord + label.size())) return;
    kind(RecordKind::kMarker);
    time(t);
    var(thread);
    u8(static_cast<std::uint8_t>(source));
    str(label);
}

void BlockEncoder::rss(std::uint64_t t, std::uint64_t rss_bytes) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kRss);
    time(t);
    var(rss_bytes);
}

void BlockEncoder::lost(std::uint64_t t, std::uint64_t thread, std::uint64_t allocs,
                        std::uint64_t frees, std::uint64_t bytes) noexcept {
    if (!reserve(kSmallRecord)) return;
    kind(RecordKind::kLost);
    time(t);
    var(thread);
    var(allocs);
    var(frees);
    var(bytes);
}

void BlockEncoder::end(std::uint64_t t, const EndRecord& r) noexcept {
    if (!reserve(kSmallRecord + 7 * format::kMaxVarintSize)) return;
    kind(RecordKind::kEnd);
    time(t);
    u8(static_cast<std::uint8_t>(r.reason));
    var(r.events);
    var(r.allocs);
    var(r.frees);
    var(r.bytes_allocated);
    var(r.lost_events);
    var(r.stacks);
    var(r.threads);
}

// ---- TraceFileWriter ------------------------------------------------------------------------

TraceFileWriter::TraceFileWriter(int level) noexcept
    : compression_(level > 0 ? env::Compression{format::BlockFlags::kZstd, level}
                             : env::Compression{format::BlockFlags::kRaw, 0}) {}

TraceFileWriter::TraceFileWriter(env::Compression compression) noexcept : compression_(compression) {}

TraceFileWriter::~TraceFileWriter() {
    if (cctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
    sys::unmap_pages(lz4_state_, lz4_state_size_);
    sys::unmap_pages(out_, out_capacity_);
}

bool TraceFileWriter::fail(int err) noexcept {
    if (error_ == 0) error_ = err != 0 ? err : EIO;
    return false;
}

bool TraceFileWriter::open(int fd) noexcept {
    fd_ = fd;
    if (fd < 0) return fail(EBADF);
    if (compression_.codec == format::BlockFlags::kZstd) {
        const ZSTD_customMem mem{zstd_alloc, zstd_free, nullptr};
        cctx_ = ZSTD_createCCtx_advanced(mem);
        if (cctx_ == nullptr) return fail(ENOMEM);
        ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(cctx_), ZSTD_c_compressionLevel, compression_.level);
        ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(cctx_), ZSTD_c_checksumFlag, 0);
    } else if (compression_.codec == format::BlockFlags::kLz4) {
        lz4_state_size_ = sys::page_round(static_cast<std::size_t>(LZ4_sizeofState()));
        lz4_state_ = sys::map_pages(lz4_state_size_);  // page-aligned, as LZ4 wants 8 bytes
        if (lz4_state_ == nullptr) {
            lz4_state_size_ = 0;
            return fail(ENOMEM);
        }
    }
    const format::FileHeader h = format::make_file_header();
    if (!sys::write_all(fd_, &h, sizeof(h))) return fail(errno);
    bytes_written_ += sizeof(h);
    return true;
}

// Grows the output buffer (whole mappings) to hold a compressed block of up to bound bytes.
bool TraceFileWriter::ensure_out(std::size_t bound) noexcept {
    if (bound <= out_capacity_) return true;
    sys::unmap_pages(out_, out_capacity_);
    out_capacity_ = sys::page_round(bound);
    out_ = static_cast<std::uint8_t*>(sys::map_pages(out_capacity_));
    if (out_ == nullptr) out_capacity_ = 0;
    return out_ != nullptr;
}

bool TraceFileWriter::write_block(std::span<const std::uint8_t> raw) noexcept {
    if (error_ != 0) return false;
    if (fd_ < 0) return fail(EBADF);
    if (raw.size() > format::kMaxBlockRawSize) return fail(EFBIG);
    format::BlockHeader h{};
    h.magic = format::kBlockMagic;
    h.raw_size = static_cast<std::uint32_t>(raw.size());
    const std::uint8_t* payload = raw.data();
    std::size_t stored = raw.size();
    h.flags = static_cast<std::uint32_t>(format::BlockFlags::kRaw);
    if (cctx_ != nullptr) {
        if (!ensure_out(ZSTD_compressBound(raw.size()))) return fail(ENOMEM);
        const std::size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), out_, out_capacity_,
                                             raw.data(), raw.size());
        if (ZSTD_isError(n)) return fail(EIO);
        payload = out_;
        stored = n;
        h.flags = static_cast<std::uint32_t>(format::BlockFlags::kZstd);
    } else if (lz4_state_ != nullptr) {
        // raw.size() <= 16 MiB (checked above), so the sizes fit LZ4's ints.
        const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
        if (!ensure_out(static_cast<std::size_t>(bound))) return fail(ENOMEM);
        const int n = LZ4_compress_fast_extState(lz4_state_, reinterpret_cast<const char*>(raw.data()),
                                                 reinterpret_cast<char*>(out_), static_cast<int>(raw.size()),
                                                 bound, 1);
        if (n <= 0) return fail(EIO);
        payload = out_;
        stored = static_cast<std::size_t>(n);
        h.flags = static_cast<std::uint32_t>(format::BlockFlags::kLz4);
    }
    h.stored_size = static_cast<std::uint32_t>(stored);
    h.payload_crc = format::crc32c(payload, stored);
    h.header_crc = format::block_header_crc(h);
    if (!sys::write_all(fd_, &h, sizeof(h)) || !sys::write_all(fd_, payload, stored)) {
        return fail(errno);
    }
    bytes_written_ += sizeof(h) + stored;
    ++blocks_;
    return true;
}

}  // namespace heapwise::preload
