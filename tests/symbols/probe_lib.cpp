// The shared library of the symbolizer tests (libhw_symprobe.so, loaded with dlopen): a class
// template in nested namespaces, an inline chain, an exported C entry point and a function
// with internal linkage, each reporting a return address from a known line.
#include <utility>

#include "probe_sink.hpp"

namespace {

[[gnu::noinline]] void probe_capture(const ProbeSink* sink, const char* tag, int line0,
                                     int line1, int line2) {
    sink->record(tag, __builtin_return_address(0), line0, line1, line2);
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] void internal_only(const ProbeSink* sink) {
    HW_PROBE(sink, "lib_internal", 0, 0);
}

}  // namespace

namespace heapwise_probe_lib::detail {

template <typename K, typename V>
struct Table {
    [[gnu::noinline]] static void insert(const ProbeSink* sink, K, V) {
        HW_PROBE(sink, "lib_template", 0, 0);
    }
};

[[gnu::always_inline]] inline void inner_step(const ProbeSink* sink, int call_line) {
    HW_PROBE(sink, "lib_inline", call_line, 0);
}

[[gnu::noinline]] void outer_step(const ProbeSink* sink) {
    inner_step(sink, __LINE__);
    asm volatile("" ::: "memory");
}

}  // namespace heapwise_probe_lib::detail

extern "C" [[gnu::visibility("default")]] void hw_symprobe_lib_run(const ProbeSink* sink) {
    heapwise_probe_lib::detail::Table<int, std::pair<long, char>>::insert(sink, 1, {2, 'c'});
    heapwise_probe_lib::detail::outer_step(sink);
    internal_only(sink);
    HW_PROBE(sink, "lib_c_entry", 0, 0);
}
