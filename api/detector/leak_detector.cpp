// LeakDetector, Snapshot and Differences: thin public layers over DetectorCore. Every entry
// point opens an InternalScope first, so whatever it allocates, the objects it returns included,
// is recorded under the tracer's internal stack and never shows in a snapshot.
#include "heapwise/leak_detector.hpp"

#include <iostream>

#include "detector_core.hpp"
#include "tracer_link.hpp"

namespace heapwise {

using api::InternalScope;

std::vector<StatisticDiff> Differences::top(std::size_t n) const {
    InternalScope internal;
    const std::size_t k = std::min(n, rows_.size());
    return std::vector<StatisticDiff>(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(k));
}

const api::SnapshotData& Snapshot::data() const {
    if (!data_) {
        throw DetectorError(DetectorError::Code::empty_snapshot,
                            "heapwise::LeakDetector: an empty Snapshot (default-constructed or "
                            "moved from) has no figures");
    }
    return *data_;
}

Differences Snapshot::compare_to(const Snapshot& base, By by, const Filters& filters) const {
    InternalScope internal;
    const api::SnapshotData& now = data();
    const api::SnapshotData& old = base.data();
    api::check_same_detector(old, now);
    return Differences(now.core->compare(&old, now, by, filters, 0, 0));
}

Differences Snapshot::statistics(By by, const Filters& filters) const {
    InternalScope internal;
    const api::SnapshotData& now = data();
    api::check_this_process(now);
    return Differences(now.core->compare(nullptr, now, by, filters, 0, 0));
}

const std::string& Snapshot::label() const { return data().label; }
std::uint64_t Snapshot::time_ns() const { return data().live.time_ns; }
std::uint32_t Snapshot::pid() const { return data().live.pid; }
std::uint64_t Snapshot::live_bytes() const { return data().live.live_bytes; }
std::uint64_t Snapshot::live_count() const { return data().live.live_count; }
std::size_t Snapshot::sites() const { return data().live.sites.size(); }
bool Snapshot::estimated() const { return data().live.sample_interval != 0; }
std::uint64_t Snapshot::sample_interval() const { return data().live.sample_interval; }
std::uint64_t Snapshot::lost_events() const { return data().live.lost_events; }

LeakDetector::LeakDetector() {
    InternalScope internal;
    core_ = std::make_shared<api::DetectorCore>();
    baseline_ = Snapshot(core_->snapshot("detector-" + std::to_string(core_->id()) + "-baseline"));
}

LeakDetector::~LeakDetector() {
    InternalScope internal;
    baseline_ = Snapshot();
    core_.reset();
}

Snapshot LeakDetector::take_snapshot(std::string_view label) {
    InternalScope internal;
    return Snapshot(core_->snapshot(label));
}

const Snapshot& LeakDetector::baseline() const noexcept { return baseline_; }

bool LeakDetector::started_late() const noexcept {
    return core_->started_late() || baseline_.data_->live.since_ns != 0;
}
std::uint64_t LeakDetector::since_ns() const noexcept { return baseline_.data_->live.since_ns; }
bool LeakDetector::estimated() const noexcept { return baseline_.data_->live.sample_interval != 0; }
std::uint64_t LeakDetector::sample_interval() const noexcept {
    return baseline_.data_->live.sample_interval;
}

void LeakDetector::print_report(const ReportOptions& options) { print_report(options, std::cout); }

void LeakDetector::print_report(const ReportOptions& options, std::ostream& out) {
    const std::string text = report(options);
    InternalScope internal;  // the stream's own buffers
    out << text << std::flush;
}

}  // namespace heapwise
