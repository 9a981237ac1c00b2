// Draws "\r<label> [#######-------]  45% (pass 1 of 2)" and erases it with "\r\x1b[K".
#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "cli_common.hpp"

namespace heapwise::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {
    if (const char* d = std::getenv("HEAPWISE_PROGRESS_DELAY_MS")) {
        if (const auto ms = try_parse_duration_ns(std::string(d) + "ms")) {
            delay_ = std::chrono::milliseconds(*ms / 1'000'000);
        }
    }
}

ProgressBar::~ProgressBar() { erase(); }

void ProgressBar::update(const analyzer::ReplayRequest::Progress& p) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < delay_) return;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double in_pass = p.file_size == 0 ? 1.0 : static_cast<double>(p.bytes_read) / static_cast<double>(p.file_size);
    const double done = (static_cast<double>(p.pass - 1) + in_pass) / static_cast<double>(p.passes);
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(done * kWidth);
    const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                            std::string(static_cast<std::size_t>(kWidth - filled), '-');
    const std::string pass = p.passes > 1 ? fmt::format(" (pass {} of {})", p.pass, p.passes) : "";
    const std::string line = fmt::format("\r{} [{}] {:3d}%{}\x1b[K", label_, bar,
                                         static_cast<int>(done * 100), pass);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::erase() {
    if (!drawn_) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
}

}  // namespace heapwise::cli
