// Storage of expanded stacks by id.
#include "analyzer/stack_table.hpp"

namespace heapwise::analyzer {

std::span<const std::uint64_t> StackTable::frames(StackId id) const noexcept {
    const auto i = static_cast<std::uint32_t>(id);
    if (i < dense_.size()) return dense_[i];
    const auto it = sparse_.find(i);
    if (it == sparse_.end()) return {};
    return it->second;
}

bool StackTable::contains(StackId id) const noexcept {
    const auto i = static_cast<std::uint32_t>(id);
    if (i < dense_defined_.size()) return dense_defined_[i];
    return sparse_.count(i) != 0;
}

void StackTable::define(StackId id, std::vector<std::uint64_t> frames) {
    const auto i = static_cast<std::uint32_t>(id);
    if (!contains(id)) ++count_;
    // Grow the dense range only by a bounded step, so one huge id cannot claim gigabytes.
    if (i >= dense_.size() && i < dense_.size() + kDenseSlack) {
        dense_.resize(static_cast<std::size_t>(i) + 1);
        dense_defined_.resize(static_cast<std::size_t>(i) + 1);
        auto it = sparse_.begin();
        while (it != sparse_.end()) {  // ids now inside the dense range move there
            if (it->first < dense_.size()) {
                dense_[it->first] = std::move(it->second);
                dense_defined_[it->first] = true;
                it = sparse_.erase(it);
            } else {
                ++it;
            }
        }
    }
    if (i < dense_.size()) {
        dense_[i] = std::move(frames);
        dense_defined_[i] = true;
    } else {
        sparse_[i] = std::move(frames);
    }
}

}  // namespace heapwise::analyzer
