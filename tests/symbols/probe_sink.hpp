// What the symbolizer test programs (probe_main.cpp, probe_lib.cpp) share: a sink that records
// a return address with the source lines the compiler itself says it belongs to (__LINE__),
// so the test checks DWARF against facts that do not come from DWARF.
#pragma once

struct ProbeSink {
    // tag names the probe; lines[0] is the line of the innermost frame, lines[1..] the lines
    // of the call sites of the frames it was inlined into (0 = none).
    void (*record)(const char* tag, const void* return_address, int line0, int line1, int line2);
};

// Capture the return address of the sink call itself, i.e. a point inside the calling function
// at this line. The empty asm after the call keeps it from becoming a tail call.
#define HW_PROBE(sink, tag, l1, l2)                                              \
    do {                                                                         \
        probe_capture((sink), (tag), __LINE__, (l1), (l2));                      \
        asm volatile("" ::: "memory");                                           \
    } while (0)
