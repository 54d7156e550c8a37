#include <catch2/catch.hpp>

#include "replay_guard.hpp"

using namespace veil::onion;

namespace {
Key32 key(std::uint8_t b) {
    Key32 k{};
    k.fill(b);
    return k;
}
}  // namespace

TEST_CASE("onion - a replayed layer is refused within the window", "[onion]") {
    ReplayGuard guard(60'000, 100);
    CHECK(guard.admit(key(1), 1'000'000, 1'000'000));
    CHECK_FALSE(guard.admit(key(1), 1'000'000, 1'000'500));
    CHECK(guard.admit(key(2), 1'000'000, 1'000'500));
}

TEST_CASE("onion - layers outside the time window are refused, so old keys can be forgotten", "[onion]") {
    ReplayGuard guard(60'000, 100);
    CHECK_FALSE(guard.admit(key(1), 1'000'000, 1'060'001));  // too old
    CHECK_FALSE(guard.admit(key(1), 1'060'001, 1'000'000));  // from the future
    CHECK(guard.admit(key(3), 1'000'000, 1'000'000));
    CHECK(guard.size() == 1);
    // Once its timestamp alone refuses it, the entry is dropped; the replay is still refused.
    CHECK(guard.admit(key(4), 1'070'000, 1'070'000));
    CHECK(guard.size() == 1);
    CHECK_FALSE(guard.admit(key(3), 1'000'000, 1'070'000));
}

TEST_CASE("onion - a full replay table forgets its oldest entries and still admits new users", "[onion]") {
    ReplayGuard guard(60'000, 2);
    CHECK(guard.admit(key(1), 10, 10));
    CHECK(guard.admit(key(2), 20, 20));
    CHECK(guard.admit(key(3), 30, 30));  // a new user is served: key 1 (the oldest) goes
    CHECK(guard.size() == 2);
    CHECK(guard.evicted() == 1);
    CHECK_FALSE(guard.admit(key(2), 20, 30));  // the newer entries still catch replays
    CHECK_FALSE(guard.admit(key(3), 30, 30));
}
