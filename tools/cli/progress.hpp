// The progress bar of the analysis commands: on stderr, only when stderr is a terminal, only
// once reading has taken longer than a delay (1 s; HEAPWISE_PROGRESS_DELAY_MS overrides it), at
// most ten redraws a second, and erased when reading ends so the report starts on a clean line.
// Fed by the reader's per-block progress hook: it never costs anything per event.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "analyzer/replay/replay.hpp"

namespace heapwise::cli {

class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void update(const analyzer::ReplayRequest::Progress& p);
    void erase();  // removes the bar if drawn; it may be drawn again by a later update
    bool enabled() const noexcept { return enabled_; }

private:
    using Clock = std::chrono::steady_clock;
    std::string label_;
    bool enabled_ = false;
    bool drawn_ = false;
    Clock::time_point start_;
    Clock::time_point last_draw_;
    std::chrono::milliseconds delay_{1000};
};

}  // namespace heapwise::cli
