// A site in a second source file, for grouping by file.
#include "sites.hpp"

extern "C" std::uintptr_t hw_det_capture_ra();

extern "C" [[gnu::noinline]] void hw_det_site_gamma() {
    g_line_gamma = __LINE__; g_ra_gamma = hw_det_capture_ra();
    asm volatile("");
}
