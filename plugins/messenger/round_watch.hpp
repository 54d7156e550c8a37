#pragma once
/// Notices a resident loop that stopped (issue 17, the rpc group test): the receive loop runs one
/// step after another, each started by the callback of the one before, so a single callback that
/// never comes (a reply lost between plugins, a read that never finishes) would stop every later
/// round without a word. Each round has a number; every step of it counts as progress; a round
/// with no progress for `stall_ms` is given up (reported once), and a late callback of a round
/// given up or superseded finds current() false and goes no further. Pure (time passed in).

#include <cstdint>

namespace veil::messenger {

/// No step of a receive round takes this long when its answers come: a device list read is
/// bounded near 50 s (manifest wait, every member's pages, the onion deadline), a node request
/// by 10 s, a long-poll by 7 s.
inline constexpr std::uint64_t kReceiveStallMs = 90'000;

class RoundWatch final {
public:
    explicit RoundWatch(std::uint64_t stall_ms) : stall_ms_(stall_ms) {}

    /// A new round starts: its number (every older round is no longer current).
    std::uint64_t begin(std::uint64_t now_ms) {
        last_step_ms_ = now_ms;
        return ++round_;
    }
    /// The current round made a step (an answer came).
    void step(std::uint64_t now_ms) { last_step_ms_ = now_ms; }
    /// Whether `round` is still the one running (not superseded, not given up).
    [[nodiscard]] bool current(std::uint64_t round) const { return round == round_; }
    /// True once when the current round made no step for stall_ms: it is given up (no longer current).
    bool stalled(std::uint64_t now_ms) {
        if (round_ == 0 || now_ms < last_step_ms_ + stall_ms_) return false;
        ++round_;  // given up: its late callbacks are not current
        last_step_ms_ = now_ms;
        return true;
    }

private:
    std::uint64_t stall_ms_;
    std::uint64_t round_ = 0;  // 0: no round started yet
    std::uint64_t last_step_ms_ = 0;
};

}  // namespace veil::messenger
