#pragma once
/// The one replay window of Veil: remembers which signed or keyed messages were seen inside a
/// clock window, so that a replay is refused. Used by the service node (owner requests, peer
/// envelopes) and the onion relay (layer keys). Thread-safe (one mutex).
///
/// Rules:
/// - clock: a timestamp more than `window_ms` away from now (either way) is refused;
/// - replay: a key already seen, whose timestamp the clock rule still admits, is refused;
/// - bounded: past `max_entries` the entry that would expire first goes (counted in evicted()):
///   a flood shortens how long a replay is caught, it never makes the holder refuse everyone.
/// An entry's expiry is min(timestamp, arrival) + window, so a timestamp from the future sorts
/// with what arrived with it and cannot pin an entry ahead of honest ones. When that expiry comes
/// and the clock rule would still admit its timestamp (stamped ahead by d ms), the entry is kept
/// d ms more with expiry timestamp + window: dropping it then would let the replay through.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

class VEIL_SDK_API ReplayWindow final {
public:
    /// What identifies a message: a key it carries (an ephemeral key) or a digest of it.
    using Key = std::array<std::uint8_t, 32>;
    enum class Verdict { admitted = 1, replayed, out_of_window };

    ReplayWindow(std::uint64_t window_ms, std::size_t max_entries);

    /// Checks the clock rule and `key`; records it when admitted.
    [[nodiscard]] Verdict admit(const Key& key, std::uint64_t timestamp_ms, std::uint64_t now_ms);
    /// Only the clock rule.
    [[nodiscard]] bool in_window(std::uint64_t timestamp_ms, std::uint64_t now_ms) const;
    [[nodiscard]] std::size_t size() const;
    /// Entries forgotten early because the window was full.
    [[nodiscard]] std::uint64_t evicted() const;
    [[nodiscard]] std::uint64_t window_ms() const { return window_ms_; }

private:
    void forget_expired(std::uint64_t now_ms);

    std::uint64_t window_ms_;
    std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::uint64_t evicted_ = 0;
    std::map<Key, std::uint64_t> timestamps_;               // key -> its timestamp
    std::set<std::pair<std::uint64_t, Key>> by_expiry_;     // (expiry, key), soonest first
};

}  // namespace veil::sdk
