// TraceWriter: the encoder calls with the test's defaults (thread 0, malloc/free).
#include "trace_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace heapwise::test {

TraceWriter::TraceWriter(const std::filesystem::path& path, format::Mode mode,
                         std::uint64_t sample_interval) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0 || !writer_.open(fd_)) throw std::runtime_error("cannot write " + path.string());
    preload::ProcessInfoRecord pi;
    pi.pid = 100;
    pi.tick_ns = 1000;
    pi.mode = mode;
    pi.sample_interval = sample_interval;
    pi.exe = "/bin/test";
    enc_.process_info(pi);
}

TraceWriter::~TraceWriter() {
    flush();
    ::close(fd_);
}

void TraceWriter::stack(std::uint64_t id, std::initializer_list<std::uintptr_t> frames) {
    const std::vector<std::uintptr_t> own(frames);
    enc_.stack(id, own);
}

void TraceWriter::alloc(std::uint64_t t, std::uint64_t addr, std::uint64_t size,
                        std::uint64_t stack, std::uint64_t thread, format::AllocFn fn) {
    enc_.alloc(t, thread, addr, size, stack, fn);
}

void TraceWriter::free(std::uint64_t t, std::uint64_t addr, std::uint64_t thread,
                       format::FreeFn fn) {
    enc_.free(t, thread, addr, fn);
}

void TraceWriter::marker(std::uint64_t t, std::string_view label) {
    enc_.marker(t, 0, format::MarkerSource::kCall, label);
}

void TraceWriter::end(std::uint64_t t) { enc_.end(t, preload::EndRecord{}); }

void TraceWriter::flush() {
    if (enc_.empty()) return;
    if (!enc_.ok() || !writer_.write_block(enc_.bytes())) throw std::runtime_error("write failed");
    enc_.reset();
}

}  // namespace heapwise::test
