// Real code addresses for the scripted tracer's stacks: each site function records the return
// address of a call made on a known line, so the detector's symbolizer must name this very
// function, file and line.
#pragma once

#include <cstdint>

extern "C" {
extern std::uintptr_t g_ra_alpha, g_ra_beta, g_ra_gamma, g_ra_outer;
extern int g_line_alpha, g_line_beta, g_line_gamma, g_line_outer;
void hw_det_site_alpha();
void hw_det_site_beta();
void hw_det_site_gamma();  // in sites_other.cpp
void hw_det_outer();       // calls alpha; its own return address is g_ra_outer
}

// Fills the globals above.
void capture_sites();
