#include "veil/sdk/replay_window.hpp"

#include <algorithm>

namespace veil::sdk {

ReplayWindow::ReplayWindow(std::uint64_t window_ms, std::size_t max_entries)
    : window_ms_(window_ms), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

bool ReplayWindow::in_window(std::uint64_t timestamp_ms, std::uint64_t now_ms) const {
    std::uint64_t skew = timestamp_ms > now_ms ? timestamp_ms - now_ms : now_ms - timestamp_ms;
    return skew <= window_ms_;
}

std::size_t ReplayWindow::size() const {
    std::lock_guard lock(mutex_);
    return timestamps_.size();
}

std::uint64_t ReplayWindow::evicted() const {
    std::lock_guard lock(mutex_);
    return evicted_;
}

ReplayWindow::Verdict ReplayWindow::admit(const Key& key, std::uint64_t timestamp_ms, std::uint64_t now_ms) {
    if (!in_window(timestamp_ms, now_ms)) return Verdict::out_of_window;
    std::lock_guard lock(mutex_);
    forget_expired(now_ms);
    if (timestamps_.count(key)) return Verdict::replayed;
    // Full: the entry that expires first goes. Never refuse a fresh message.
    while (timestamps_.size() >= max_entries_) {
        timestamps_.erase(by_expiry_.begin()->second);
        by_expiry_.erase(by_expiry_.begin());
        ++evicted_;
    }
    timestamps_.emplace(key, timestamp_ms);
    by_expiry_.emplace(std::min(timestamp_ms, now_ms) + window_ms_, key);
    return Verdict::admitted;
}

void ReplayWindow::forget_expired(std::uint64_t now_ms) {
    while (!by_expiry_.empty() && by_expiry_.begin()->first < now_ms) {
        auto [expiry_ms, key] = *by_expiry_.begin();
        by_expiry_.erase(by_expiry_.begin());
        std::uint64_t timestamp_ms = timestamps_.at(key);
        // Stamped ahead of its arrival: the clock rule still admits it, so keep catching it.
        if (timestamp_ms + window_ms_ >= now_ms) {
            by_expiry_.emplace(timestamp_ms + window_ms_, key);
            continue;
        }
        timestamps_.erase(key);
    }
}

}  // namespace veil::sdk
