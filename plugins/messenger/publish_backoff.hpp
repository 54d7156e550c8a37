#pragma once
/// When the resident client publishes its device list and bundle again after a publish that
/// too few members of the identity's swarm took (unsettled) or that failed: 30 s after the
/// first try, doubling after each further one, at most 15 minutes apart. Each try reads the
/// swarm and may pay proof of work, so a swarm with members down for hours is not asked every
/// 30 s. A settled publish starts over, and a new device list (a revocation, a device added, a
/// fork joined) goes out at once whatever the backoff. Plain value: the caller gives the clock.

#include <algorithm>
#include <cstdint>
#include <optional>

namespace veil::messenger {

class PublishBackoff final {
public:
    static constexpr std::uint64_t kFirstMs = 30'000;
    static constexpr std::uint64_t kMaxMs = 15ULL * 60 * 1000;

    /// True when a publish of the device list of `list_version` may go out at now_ms.
    [[nodiscard]] bool due(std::uint64_t now_ms, std::uint64_t list_version) const {
        return !waiting_version_ || list_version != *waiting_version_ || now_ms >= next_ms_;
    }
    /// A publish at now_ms of the list of `list_version` did not settle: the next waits longer.
    void unsettled(std::uint64_t now_ms, std::uint64_t list_version) {
        bool again = waiting_version_ == list_version;
        delay_ms_ = again ? std::min(kMaxMs, delay_ms_ * 2) : kFirstMs;
        waiting_version_ = list_version;
        next_ms_ = now_ms + delay_ms_;
    }
    /// Most members hold it: the next failure waits kFirstMs again.
    void settled() {
        waiting_version_.reset();
        delay_ms_ = 0;
        next_ms_ = 0;
    }
    /// When the next try may go (0 when nothing waits).
    [[nodiscard]] std::uint64_t next_ms() const { return waiting_version_ ? next_ms_ : 0; }

private:
    std::optional<std::uint64_t> waiting_version_;
    std::uint64_t delay_ms_ = 0;
    std::uint64_t next_ms_ = 0;
};

}  // namespace veil::messenger
