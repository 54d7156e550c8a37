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
    /// False also when max_entries fresh layers are already held (overload: refuse, never forget).
    bool admit(const Key32& ephemeral_key, std::uint64_t created_ms, std::uint64_t now_ms);

    [[nodiscard]] std::size_t size() const { return seen_.size(); }

private:
    void forget_expired(std::uint64_t now_ms);

    std::uint64_t window_ms_;
    std::size_t max_entries_;
    std::set<Key32> seen_;
    std::set<std::pair<std::uint64_t, Key32>> by_expiry_;  // (created_ms + window, key)
};

}  // namespace veil::onion
