#pragma once
/// Remembers the ephemeral keys of recently opened layers so that a hop refuses a replay.
/// Layers older than the window are refused by their timestamp, so memory stays bounded by
/// what arrives within one window (and by max_entries). Loop-thread only.

#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>

#include "layer.hpp"

namespace veil::onion {

class ReplayGuard final {
public:
    ReplayGuard(std::uint64_t window_ms, std::size_t max_entries)
        : window_ms_(window_ms), max_entries_(max_entries) {}

    /// True if the layer is fresh: created within +-window of now and not seen before. Records it.
    /// When max_entries are held the oldest entries are forgotten first (a flood shortens how
    /// long a replay is caught; it never makes the relay refuse every fresh layer).
    bool admit(const Key32& ephemeral_key, std::uint64_t created_ms, std::uint64_t now_ms);

    [[nodiscard]] std::size_t size() const { return seen_.size(); }
    /// Entries forgotten early because the guard was full.
    [[nodiscard]] std::uint64_t evicted() const { return evicted_; }

private:
    void forget_expired(std::uint64_t now_ms);

    std::uint64_t window_ms_;
    std::size_t max_entries_;
    std::uint64_t evicted_ = 0;
    std::set<Key32> seen_;
    std::set<std::pair<std::uint64_t, Key32>> by_expiry_;  // (created_ms + window, key)
};

}  // namespace veil::onion
