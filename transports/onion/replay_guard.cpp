#include "replay_guard.hpp"

namespace veil::onion {

bool ReplayGuard::admit(const Key32& ephemeral_key, std::uint64_t created_ms, std::uint64_t now_ms) {
    if (created_ms + window_ms_ < now_ms || created_ms > now_ms + window_ms_) return false;
    forget_expired(now_ms);
    if (seen_.count(ephemeral_key)) return false;
    // Full: the entry nearest its expiry goes (its layer is the oldest). Never refuse everyone.
    while (!by_expiry_.empty() && seen_.size() >= max_entries_) {
        seen_.erase(by_expiry_.begin()->second);
        by_expiry_.erase(by_expiry_.begin());
        ++evicted_;
    }
    seen_.insert(ephemeral_key);
    by_expiry_.emplace(created_ms + window_ms_, ephemeral_key);
    return true;
}

void ReplayGuard::forget_expired(std::uint64_t now_ms) {
    // An entry may go once its layer's timestamp alone would refuse it.
    while (!by_expiry_.empty() && by_expiry_.begin()->first < now_ms) {
        seen_.erase(by_expiry_.begin()->second);
        by_expiry_.erase(by_expiry_.begin());
    }
}

}  // namespace veil::onion
