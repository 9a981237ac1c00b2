// Names of the format's enumerations, as dump, stats and errors print them.
#include "analyzer/events.hpp"

namespace heapwise::analyzer {

const char* to_string(AllocFn fn) noexcept {
    static constexpr const char* kNames[] = {"malloc",        "calloc",         "realloc",
                                             "reallocarray",  "posix_memalign", "aligned_alloc",
                                             "memalign",      "valloc",         "pvalloc",
                                             "operator_new",  "operator_new[]"};
    const auto i = static_cast<std::size_t>(fn);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* to_string(FreeFn fn) noexcept {
    static constexpr const char* kNames[] = {"free", "realloc", "reallocarray", "operator_delete"};
    const auto i = static_cast<std::size_t>(fn);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* to_string(MarkerSource source) noexcept {
    static constexpr const char* kNames[] = {"call", "signal", "period", "api"};
    const auto i = static_cast<std::size_t>(source);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* to_string(EndReason reason) noexcept {
    static constexpr const char* kNames[] = {"exit", "exec", "error", "signal", "fork_stopped"};
    const auto i = static_cast<std::size_t>(reason);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* to_string(Mode mode) noexcept {
    static constexpr const char* kNames[] = {"lossless", "lossy", "sampled"};
    const auto i = static_cast<std::size_t>(mode);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* to_string(Unwinder unwinder) noexcept {
    static constexpr const char* kNames[] = {"none", "libunwind", "fp", "cached"};
    const auto i = static_cast<std::size_t>(unwinder);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

const char* record_kind_name(std::uint8_t kind) noexcept {
    static constexpr const char* kNames[] = {
        "padding", "process_info", "module_load", "module_unload", "thread_start",
        "thread_exit", "thread_name", "stack", "alloc", "free", "realloc_failed", "marker",
        "rss", "lost", "end"};
    if (kind == static_cast<std::uint8_t>(format::SizedKind::kInternalStack)) return "internal_stack";
    return kind < std::size(kNames) ? kNames[kind] : "unknown";
}

}  // namespace heapwise::analyzer
