#include <catch2/catch.hpp>

#include "publish_backoff.hpp"

using namespace veil::messenger;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;
constexpr std::uint64_t kList = 42;
}  // namespace

TEST_CASE("messenger - an unsettled publish is tried again with backoff, capped, reset when settled", "[messenger]") {
    PublishBackoff b;
    CHECK(b.due(kNow, kList));  // nothing failed yet
    // 30 s, then doubling, at most 15 minutes apart (the daemon's 30 s check no longer publishes each time).
    const std::uint64_t expected[] = {30'000, 60'000, 120'000, 240'000, 480'000, 900'000, 900'000};
    auto t = kNow;
    for (auto delay : expected) {
        b.unsettled(t, kList);
        CHECK(b.next_ms() == t + delay);
        CHECK_FALSE(b.due(t + 30'000 - 1, kList));  // the daemon's next check: not yet
        CHECK_FALSE(b.due(t + delay - 1, kList));
        CHECK(b.due(t + delay, kList));
        t += delay;
    }
    // A new device list (a revocation) goes out at once, and its own failures start at 30 s.
    CHECK(b.due(t + 1, kList + 1));
    b.unsettled(t, kList + 1);
    CHECK(b.next_ms() == t + 30'000);
    // Settled: the next failure waits 30 s again.
    b.settled();
    CHECK(b.due(t, kList + 1));
    CHECK(b.next_ms() == 0);
    b.unsettled(t, kList + 1);
    CHECK(b.next_ms() == t + 30'000);
}
