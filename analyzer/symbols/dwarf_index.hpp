// Per-compile-unit index of a module's functions and inlined instances, built with one walk of
// the CU's DIE tree the first time an address falls in it. dwarf_getscopes and
// dwarf_getscopes_die walk the CU from its start on every call, which costs milliseconds per
// address in a large C++ CU; with the index a lookup is a binary search and a short walk.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace heapwise::analyzer {

class DwarfIndex {
public:
    // The chain of function DIEs holding pc (a DIE address, i.e. vaddr - dwarf bias) in the CU
    // cudie: innermost first, each inlined instance followed by the DIE it was inlined into,
    // ending with the real function (or with an inlined instance if the real one is missing).
    // Empty when no function in the CU covers pc. Pointers stay valid while the index lives.
    struct Node {
        Dwarf_Die die;
        std::int32_t parent = -1;  // enclosing function node, -1 for a real function
        bool inlined = false;
    };
    std::vector<const Node*> chain(Dwarf_Die* cudie, Dwarf_Addr pc);

private:
    struct Interval {
        Dwarf_Addr low = 0;
        Dwarf_Addr high = 0;      // exclusive
        Dwarf_Addr max_high = 0;  // max of high over this and every earlier interval
        std::uint32_t node = 0;
        std::uint32_t depth = 0;
    };
    struct Cu {
        std::vector<Node> nodes;
        std::vector<Interval> intervals;
    };
    void walk(Dwarf_Die* parent_die, std::int32_t parent_node, std::uint32_t depth, Cu& cu);
    Cu& index_of(Dwarf_Die* cudie);

    std::unordered_map<Dwarf_Off, Cu> cus_;  // by the CU DIE's offset
};

}  // namespace heapwise::analyzer
