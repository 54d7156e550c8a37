#include <catch2/catch.hpp>

#include "veil/sdk/replay_window.hpp"

using veil::sdk::ReplayWindow;
using Verdict = ReplayWindow::Verdict;

namespace {
ReplayWindow::Key key(std::uint8_t b) {
    ReplayWindow::Key k{};
    k.fill(b);
    return k;
}
constexpr std::uint64_t kNow = 1'000'000;
constexpr std::uint64_t kWindow = 60'000;
}  // namespace

TEST_CASE("sdk - a replay inside the window is refused", "[sdk]") {
    ReplayWindow w(kWindow, 100);
    CHECK(w.admit(key(1), kNow, kNow) == Verdict::admitted);
    CHECK(w.admit(key(1), kNow, kNow + 500) == Verdict::replayed);
    CHECK(w.admit(key(2), kNow, kNow + 500) == Verdict::admitted);
}

TEST_CASE("sdk - timestamps outside the window are refused, so old keys can be forgotten", "[sdk]") {
    ReplayWindow w(kWindow, 100);
    CHECK(w.admit(key(1), kNow, kNow + kWindow + 1) == Verdict::out_of_window);  // too old
    CHECK(w.admit(key(1), kNow + kWindow + 1, kNow) == Verdict::out_of_window);  // from the future
    CHECK(w.size() == 0);
    CHECK(w.admit(key(3), kNow, kNow) == Verdict::admitted);
    // Once its timestamp alone refuses it, the entry is dropped; the replay is still refused.
    CHECK(w.admit(key(4), kNow + 70'000, kNow + 70'000) == Verdict::admitted);
    CHECK(w.size() == 1);
    CHECK(w.admit(key(3), kNow, kNow + 70'000) == Verdict::out_of_window);
}

TEST_CASE("sdk - a full replay window forgets its oldest entries and still admits fresh messages", "[sdk]") {
    ReplayWindow w(kWindow, 2);
    CHECK(w.admit(key(1), kNow + 10, kNow + 10) == Verdict::admitted);
    CHECK(w.admit(key(2), kNow + 20, kNow + 20) == Verdict::admitted);
    CHECK(w.admit(key(3), kNow + 30, kNow + 30) == Verdict::admitted);  // key 1 (the oldest) goes
    CHECK(w.size() == 2);
    CHECK(w.evicted() == 1);
    CHECK(w.admit(key(2), kNow + 20, kNow + 30) == Verdict::replayed);  // the newer ones still catch replays
    CHECK(w.admit(key(3), kNow + 30, kNow + 30) == Verdict::replayed);
}

TEST_CASE("sdk - a timestamp from the future does not pin its entry ahead of honest ones", "[sdk]") {
    ReplayWindow w(kWindow, 2);
    // Stamped a full window ahead: it sorts with what arrived at kNow, not a window later.
    CHECK(w.admit(key(1), kNow + kWindow, kNow) == Verdict::admitted);
    CHECK(w.admit(key(2), kNow + 1, kNow + 1) == Verdict::admitted);
    CHECK(w.admit(key(3), kNow + 2, kNow + 2) == Verdict::admitted);  // full: the future entry goes first
    CHECK(w.evicted() == 1);
    CHECK(w.admit(key(2), kNow + 1, kNow + 2) == Verdict::replayed);
    CHECK(w.admit(key(3), kNow + 2, kNow + 2) == Verdict::replayed);
}

TEST_CASE("sdk - a future-stamped entry expires on time and its replay is refused until then", "[sdk]") {
    ReplayWindow w(kWindow, 100);
    constexpr std::uint64_t kAhead = 5'000;
    CHECK(w.admit(key(1), kNow + kAhead, kNow) == Verdict::admitted);
    // Past arrival + window the clock rule still admits its timestamp: the replay is caught.
    CHECK(w.admit(key(1), kNow + kAhead, kNow + kWindow + 1) == Verdict::replayed);
    CHECK(w.size() == 1);
    // Once timestamp + window has passed, the clock rule refuses it and the entry is gone.
    CHECK(w.admit(key(2), kNow + kAhead + kWindow + 1, kNow + kAhead + kWindow + 1) == Verdict::admitted);
    CHECK(w.size() == 1);
    CHECK(w.admit(key(1), kNow + kAhead, kNow + kAhead + kWindow + 1) == Verdict::out_of_window);
}
