#include <catch2/catch.hpp>

#include "gap_searches.hpp"

using namespace veil::messenger;
using G = GapSearches;

namespace {
veil::crypto::PublicKey device(std::uint8_t n) {
    veil::crypto::PublicKey k{};
    k[0] = n;
    return k;
}
}  // namespace

TEST_CASE("gap searches - a held message starts one search at once, none while it runs", "[messenger]") {
    G g;
    CHECK_FALSE(g.next_start(100).has_value());  // nothing held: nothing due
    g.held(device(1), 100);
    REQUIRE(g.next_start(100) == 100u);
    g.started(100);
    g.held(device(2), 200);  // another device's gap while it runs: after it
    CHECK_FALSE(g.next_start(200).has_value());
    g.finished(false);
    CHECK(g.next_start(300) == 100u + G::kMinSpacingMs);
}

TEST_CASE("gap searches - a sender that skips numbers on every message earns one search per window", "[messenger]") {
    G g;
    int searches = 0;
    // A hostile device makes a gap every 10 ms for 20 s; each search takes 50 ms.
    for (std::uint64_t now = 0; now < 20'000; now += 10) {
        g.held(device(7), now);
        if (auto at = g.next_start(now); at && *at <= now) {
            g.started(now);
            ++searches;
            g.finished(false);
        }
    }
    CHECK(searches == static_cast<int>(20'000 / G::kPerDeviceEveryMs));
}

TEST_CASE("gap searches - one device's searches do not starve another's gap", "[messenger]") {
    G g;
    g.held(device(1), 0);
    g.started(0);
    g.finished(false);
    g.held(device(1), 10);  // within its window: nothing due
    CHECK_FALSE(g.next_start(10).has_value());
    g.held(device(2), 20);  // an honest device's first gap: due, after the spacing
    CHECK(g.next_start(20) == G::kMinSpacingMs);
}

TEST_CASE("gap searches - memory stays bounded whatever devices make gaps", "[messenger]") {
    G g;
    for (std::size_t i = 0; i < G::kMaxDevices + 10; ++i) {
        veil::crypto::PublicKey k{};
        k[0] = static_cast<std::uint8_t>(i);
        k[1] = static_cast<std::uint8_t>(i >> 8);
        g.held(k, 0);
    }
    g.started(0);
    g.finished(false);
    // Within the window a new device finds no room; past it, the old ones are forgotten.
    auto fresh = device(1);
    fresh[2] = 9;
    g.held(fresh, 10);
    CHECK_FALSE(g.next_start(G::kMinSpacingMs).has_value());
    g.held(fresh, G::kPerDeviceEveryMs + 1);
    CHECK(g.next_start(G::kPerDeviceEveryMs + 1).has_value());
}

TEST_CASE("gap searches - a search is due again, 1 s after the last began, while a message is held", "[messenger]") {
    G g;
    g.held(device(1), 100);
    g.started(100);
    g.finished(true);  // found nothing, the message still waits
    CHECK(g.next_start(400) == 100u + G::kMinSpacingMs);
    g.started(1'100);
    g.finished(false);  // the gap closed: nothing more
    CHECK_FALSE(g.next_start(5'000).has_value());
}
