// The monitor's clocks: the steady clock it uses by default, and ManualClock, which tests use
// to drive time and to know when the monitor thread has finished everything that was due.
#include <map>
#include <thread>

#include "heapwise/monitor.hpp"

namespace heapwise {

MonitorClock::~MonitorClock() = default;

struct ManualClock::State {
    struct Sleeper {
        time_point deadline;
        bool waiting = false;
    };
    std::mutex mu;
    std::condition_variable changed;  // a sleeper went to sleep or woke
    time_point now{std::chrono::seconds(1)};
    std::map<std::thread::id, Sleeper> sleepers;

    bool all_asleep_after_now() const {
        for (const auto& [id, s] : sleepers)
            if (!s.waiting || s.deadline <= now) return false;
        return true;
    }
};

ManualClock::ManualClock() : state_(std::make_unique<State>()) {}
ManualClock::~ManualClock() = default;

ManualClock::time_point ManualClock::now() {
    std::lock_guard g(state_->mu);
    return state_->now;
}

void ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             time_point deadline, const std::function<bool()>& wake) {
    const auto self = std::this_thread::get_id();
    auto set_waiting = [&](bool waiting) {
        std::lock_guard g(state_->mu);
        auto& s = state_->sleepers[self];
        s.deadline = deadline;
        s.waiting = waiting;
        state_->changed.notify_all();
    };
    set_waiting(true);
    while (!wake()) {
        {
            std::lock_guard g(state_->mu);
            if (state_->now >= deadline) break;
        }
        // advance() cannot notify `cv` without taking the sleeper's mutex (a lock-order
        // inversion), so the sleeper re-checks the manual time every millisecond of real time;
        // wake-ups through `cv` (stop, pressure events) still arrive at once.
        cv.wait_for(lock, std::chrono::milliseconds(1));
    }
    set_waiting(false);
}

void ManualClock::thread_done() {
    std::lock_guard g(state_->mu);
    state_->sleepers.erase(std::this_thread::get_id());
    state_->changed.notify_all();
}

bool ManualClock::advance(std::chrono::nanoseconds d) {
    std::unique_lock g(state_->mu);
    state_->now += std::chrono::duration_cast<time_point::duration>(d);
    return state_->changed.wait_for(g, std::chrono::seconds(10),
                                    [&] { return state_->all_asleep_after_now(); });
}

bool ManualClock::wait_for_sleepers(int n) {
    std::unique_lock g(state_->mu);
    return state_->changed.wait_for(g, std::chrono::seconds(10), [&] {
        int asleep = 0;
        for (const auto& [id, s] : state_->sleepers) asleep += s.waiting && s.deadline > state_->now;
        return asleep >= n;
    });
}

}  // namespace heapwise
