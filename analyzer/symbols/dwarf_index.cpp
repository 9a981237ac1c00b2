// DwarfIndex: one recursive walk per CU records every function and inlined instance that has
// code, with its address ranges and its enclosing function; lookups pick the deepest interval
// holding the address. Recursion depth is the DIE nesting depth (tens), not the CU's size.
#include "analyzer/symbols/dwarf_index.hpp"

#include <dwarf.h>

#include <algorithm>

namespace heapwise::analyzer {
namespace {

bool is_function(int tag) {
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

// Scopes that may hold functions or inlined code; types, variables and parameters do not.
bool may_hold_code(int tag) {
    switch (tag) {
        case DW_TAG_lexical_block:
        case DW_TAG_namespace:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_module:
            return true;
        default:
            return false;
    }
}

}  // namespace

void DwarfIndex::walk(Dwarf_Die* parent_die, std::int32_t parent_node, std::uint32_t depth,
                      Cu& cu) {
    Dwarf_Die child;
    if (dwarf_child(parent_die, &child) != 0) return;
    do {
        int tag = dwarf_tag(&child);
        if (is_function(tag)) {
            auto node = static_cast<std::int32_t>(cu.nodes.size());
            bool has_code = false;
            Dwarf_Addr base = 0, low = 0, high = 0;
            for (ptrdiff_t off = 0; (off = dwarf_ranges(&child, off, &base, &low, &high)) > 0;) {
                if (high <= low) continue;
                cu.intervals.push_back(Interval{low, high, 0, static_cast<std::uint32_t>(node), depth});
                has_code = true;
            }
            // Declarations and abstract instances (no code) hold nothing a pc can be in.
            if (!has_code) continue;
            bool inlined = tag == DW_TAG_inlined_subroutine;
            cu.nodes.push_back(Node{child, inlined ? parent_node : -1, inlined});
            walk(&child, node, depth + 1, cu);
        } else if (may_hold_code(tag)) {
            walk(&child, parent_node, depth + 1, cu);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

DwarfIndex::Cu& DwarfIndex::index_of(Dwarf_Die* cudie) {
    auto [it, inserted] = cus_.try_emplace(dwarf_dieoffset(cudie));
    if (!inserted) return it->second;
    Cu& cu = it->second;
    walk(cudie, -1, 0, cu);
    std::sort(cu.intervals.begin(), cu.intervals.end(), [](const Interval& a, const Interval& b) {
        return a.low != b.low ? a.low < b.low : a.depth < b.depth;
    });
    Dwarf_Addr max_high = 0;
    for (Interval& interval : cu.intervals) {
        max_high = std::max(max_high, interval.high);
        interval.max_high = max_high;
    }
    return cu;
}

std::vector<const DwarfIndex::Node*> DwarfIndex::chain(Dwarf_Die* cudie, Dwarf_Addr pc) {
    Cu& cu = index_of(cudie);
    auto it = std::upper_bound(cu.intervals.begin(), cu.intervals.end(), pc,
                               [](Dwarf_Addr a, const Interval& i) { return a < i.low; });
    const Interval* best = nullptr;
    while (it != cu.intervals.begin()) {
        --it;
        if (it->max_high <= pc) break;  // nothing at or before this one reaches pc
        if (pc < it->high && (!best || it->depth > best->depth)) best = &*it;
    }
    std::vector<const Node*> out;
    for (std::int32_t n = best ? static_cast<std::int32_t>(best->node) : -1; n >= 0;
         n = cu.nodes[static_cast<std::size_t>(n)].parent) {
        out.push_back(&cu.nodes[static_cast<std::size_t>(n)]);
    }
    return out;
}

}  // namespace heapwise::analyzer
