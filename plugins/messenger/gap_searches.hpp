#pragma once
/// When the resident client reads every member of its inbox's swarm for a message that a gap in a
/// sender's numbers says is missing (sender_order.hpp; issue 16). The search runs beside the
/// receive loop, never inside it, one at a time; any sender can make a gap (by skipping numbers),
/// so each writing device earns at most one search per kPerDeviceEveryMs (its held message is
/// shown after Client::kGapWaitMs anyway), searches start at least kMinSpacingMs apart, and one
/// search answers every gap that is waiting when it starts. Pure (time passed in); loop thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "veil/crypto/keys.hpp"

namespace veil::messenger {

class GapSearches final {
public:
    static constexpr std::uint64_t kPerDeviceEveryMs = 5'000;
    static constexpr std::uint64_t kMinSpacingMs = 1'000;
    /// Devices remembered; beyond it the ones whose window has run out are forgotten.
    static constexpr std::size_t kMaxDevices = 1024;

    /// A message `device` wrote is held for a gap: a search is due unless this device had one
    /// within kPerDeviceEveryMs (or kMaxDevices devices are within theirs).
    void held(const crypto::PublicKey& device, std::uint64_t now_ms);
    /// When the next search may start (now_ms or later), or nothing when none is due or one runs.
    [[nodiscard]] std::optional<std::uint64_t> next_start(std::uint64_t now_ms) const;
    /// A search starts: it answers what is due now.
    void started(std::uint64_t now_ms);
    /// The search ended. `still_held`: a message still waits for its gap, so the next search is
    /// due (kMinSpacingMs after this one started): what the swarm lacked a moment ago may have
    /// arrived since (the held message is shown after Client::kGapWaitMs in any case).
    void finished(bool still_held);
    [[nodiscard]] bool running() const { return running_; }

private:
    bool due_ = false;
    bool running_ = false;
    std::optional<std::uint64_t> last_start_ms_;
    std::map<crypto::PublicKey, std::uint64_t> last_ms_;  // when each device last made a search due
};

}  // namespace veil::messenger
