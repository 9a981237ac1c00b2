// SpscRing: empty and full states, index wrap-around, and a producer and a consumer thread moving
// 200000 events in order.
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "ring.hpp"

using heapwise::preload::Event;
using heapwise::preload::SpscRing;

TEST_CASE("ring reports empty and full and wraps around", "[preload][ring]") {
    std::vector<Event> slots(8);
    SpscRing ring;
    ring.init(slots.data(), slots.size());
    CHECK(ring.head() == ring.tail());
    for (std::uint64_t round = 0; round < 5; ++round) {  // 40 events through 8 slots
        for (std::uint64_t i = 0; i < 8; ++i) {
            Event* e = ring.try_reserve();
            REQUIRE(e != nullptr);
            e->addr = round * 8 + i;
            ring.publish();
        }
        CHECK(ring.try_reserve() == nullptr);  // full
        CHECK(ring.head() - ring.tail() == 8);
        for (std::uint64_t i = 0; i < 8; ++i) CHECK(ring.at(ring.tail() + i).addr == round * 8 + i);
        ring.release_to(ring.tail() + 3);
        Event* e = ring.try_reserve();  // room again after a partial release
        REQUIRE(e != nullptr);
        CHECK(e == &slots[(round * 8 + 8) % 8]);
        ring.release_to(ring.head());
    }
    CHECK(ring.head() == 40);
}

TEST_CASE("ring moves events between two threads in order", "[preload][ring]") {
    constexpr std::uint64_t kEvents = 200'000;
    std::vector<Event> slots(1024);
    SpscRing ring;
    ring.init(slots.data(), slots.size());
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kEvents; ++i) {
            Event* e;
            while ((e = ring.try_reserve()) == nullptr) std::this_thread::yield();
            ring.enter_busy();
            e->addr = i;
            e->size = i * 3;
            ring.publish();
            ring.leave_busy();
        }
    });
    std::uint64_t next = 0;
    bool in_order = true;
    while (next < kEvents) {
        const std::uint64_t head = ring.head();
        if (head == ring.tail()) std::this_thread::yield();  // 2 shared cores: let the producer run
        for (std::uint64_t i = ring.tail(); i < head; ++i) {
            const Event& e = ring.at(i);
            in_order = in_order && e.addr == next && e.size == next * 3;
            ++next;
        }
        ring.release_to(head);
    }
    producer.join();
    CHECK(in_order);
    CHECK(next == kEvents);
    CHECK_FALSE(ring.busy());
}
