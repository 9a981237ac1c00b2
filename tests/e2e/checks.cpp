// Shared assertions of the end-to-end tests; see checks.hpp.
#include "checks.hpp"

#include <cinttypes>
#include <cstdio>

namespace heapwise::e2e {

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

std::string alloc_line(hwa::AllocFn fn, std::uint64_t addr, std::uint64_t size) {
    return std::string("alloc ") + hwa::to_string(fn) + " " + hex(addr) + " " + std::to_string(size);
}

std::string free_line(hwa::FreeFn fn, std::uint64_t addr, std::uint64_t size) {
    return std::string("free ") + hwa::to_string(fn) + " " + hex(addr) + " " + std::to_string(size);
}

std::string failed_line(std::uint64_t addr, std::uint64_t size) {
    return "realloc-failed " + hex(addr) + " " + std::to_string(size);
}

std::vector<Op> allocs_of(const TraceFacts& t, const std::vector<AddrRange>& exe, const AddrRange& fn) {
    std::vector<Op> out;
    for (const auto& op : t.ops) {
        if (op.kind == OpKind::kAlloc && first_frame_in(t.frames(op.block.stack), exe, fn)) out.push_back(op);
    }
    return out;
}

std::vector<std::string> ops_of(const TraceFacts& t, const std::vector<AddrRange>& exe, const AddrRange& fn) {
    std::set<std::uint64_t> ours;  // seq of the allocations made from fn
    std::vector<std::string> out;
    for (const auto& op : t.ops) {
        switch (op.kind) {
        case OpKind::kAlloc:
            if (first_frame_in(t.frames(op.block.stack), exe, fn)) {
                ours.insert(op.seq);
                out.push_back(alloc_line(static_cast<hwa::AllocFn>(op.fn), op.addr, op.block.size));
            }
            break;
        case OpKind::kFree:
            if (op.known && ours.count(op.block.seq) != 0) {
                out.push_back(free_line(static_cast<hwa::FreeFn>(op.fn), op.addr, op.block.size));
            }
            break;
        case OpKind::kReallocFailed:
            if (op.known && ours.count(op.block.seq) != 0) out.push_back(failed_line(op.addr, op.block.size));
            break;
        }
    }
    return out;
}

}  // namespace heapwise::e2e
