#include <catch2/catch.hpp>

#include "round_watch.hpp"

using namespace veil::messenger;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;
constexpr std::uint64_t kStall = 90'000;
}  // namespace

// Issue 17: the receive loop's rounds follow one another through callbacks; one lost callback
// stopped every later round without a word. The watch gives such a round up once, and its late
// callback no longer counts.
TEST_CASE("messenger - round watch: a round with no step for the stall time is given up once", "[messenger]") {
    RoundWatch watch(kStall);
    CHECK_FALSE(watch.stalled(kNow + 10 * kStall));  // no round yet: nothing to give up
    auto round = watch.begin(kNow);
    CHECK(watch.current(round));
    CHECK_FALSE(watch.stalled(kNow + kStall - 1));
    CHECK(watch.stalled(kNow + kStall));
    CHECK_FALSE(watch.current(round));                // its late callback goes no further
    CHECK_FALSE(watch.stalled(kNow + kStall + 1));    // reported once, not every tick
    auto next = watch.begin(kNow + kStall + 1);
    CHECK(watch.current(next));
    CHECK_FALSE(watch.current(round));
}

TEST_CASE("messenger - round watch: steps keep a long round alive, a new round supersedes the old", "[messenger]") {
    RoundWatch watch(kStall);
    auto round = watch.begin(kNow);
    // Many group mailboxes, each read within the stall time: the round is slow, not stalled.
    for (std::uint64_t i = 1; i <= 10; ++i) {
        watch.step(kNow + i * (kStall - 1));
        CHECK_FALSE(watch.stalled(kNow + i * (kStall - 1) + 1));
    }
    CHECK(watch.current(round));
    auto next = watch.begin(kNow + 11 * kStall);
    CHECK_FALSE(watch.current(round));
    CHECK(watch.current(next));
}
