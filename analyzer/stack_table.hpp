// The stacks a trace has defined so far, each fully expanded (leaf first). Grows with the number
// of distinct stacks, never with the number of events; ids are dense in practice, so lookups are
// an index into a vector, with a map for any id far beyond the dense range.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "analyzer/events.hpp"

namespace heapwise::analyzer {

class StackTable {
public:
    // Frames of stack id (leaf first); empty for id 0 and for ids never defined (e.g. defined in
    // a block that was damaged).
    std::span<const std::uint64_t> frames(StackId id) const noexcept;
    bool contains(StackId id) const noexcept;
    std::size_t size() const noexcept { return count_; }

    // Defines or redefines id. Used by the record decoder.
    void define(StackId id, std::vector<std::uint64_t> frames);

private:
    static constexpr std::uint32_t kDenseSlack = 1u << 16;
    std::vector<std::vector<std::uint64_t>> dense_;  // index = id
    std::vector<bool> dense_defined_;
    std::unordered_map<std::uint32_t, std::vector<std::uint64_t>> sparse_;
    std::size_t count_ = 0;
};

}  // namespace heapwise::analyzer
