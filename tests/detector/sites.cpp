// Site functions of the unit tests (see sites.hpp); lines are recorded next to each call.
#include "sites.hpp"

extern "C" {
[[gnu::noinline]] std::uintptr_t hw_det_capture_ra() {
    auto ra = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
    asm volatile("" : "+r"(ra));
    return ra;
}
std::uintptr_t g_ra_alpha, g_ra_beta, g_ra_gamma, g_ra_outer;
int g_line_alpha, g_line_beta, g_line_gamma, g_line_outer;
[[gnu::noinline]] void hw_det_site_alpha() {
    g_line_alpha = __LINE__; g_ra_alpha = hw_det_capture_ra();
    asm volatile("");
}
[[gnu::noinline]] void hw_det_site_beta() {
    g_line_beta = __LINE__; g_ra_beta = hw_det_capture_ra();
    asm volatile("");
}
[[gnu::noinline]] void hw_det_outer() {
    g_line_outer = __LINE__; g_ra_outer = hw_det_capture_ra();
    asm volatile("");
}
}

void capture_sites() {
    hw_det_site_alpha();
    hw_det_site_beta();
    hw_det_site_gamma();
    hw_det_outer();
}
