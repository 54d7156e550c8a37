#include "gap_searches.hpp"

#include <algorithm>

namespace veil::messenger {

void GapSearches::held(const crypto::PublicKey& device, std::uint64_t now_ms) {
    auto it = last_ms_.find(device);
    if (it != last_ms_.end() && now_ms < it->second + kPerDeviceEveryMs) return;  // had its search
    if (it == last_ms_.end() && last_ms_.size() >= kMaxDevices) {
        std::erase_if(last_ms_, [now_ms](const auto& d) { return now_ms >= d.second + kPerDeviceEveryMs; });
        if (last_ms_.size() >= kMaxDevices) return;  // that many devices made gaps this window
    }
    last_ms_[device] = now_ms;
    due_ = true;
}

std::optional<std::uint64_t> GapSearches::next_start(std::uint64_t now_ms) const {
    if (!due_ || running_) return std::nullopt;
    if (!last_start_ms_) return now_ms;
    return std::max(now_ms, *last_start_ms_ + kMinSpacingMs);
}

void GapSearches::finished(bool still_held) {
    running_ = false;
    if (still_held) due_ = true;
}

void GapSearches::started(std::uint64_t now_ms) {
    due_ = false;
    running_ = true;
    last_start_ms_ = now_ms;
}

}  // namespace veil::messenger
