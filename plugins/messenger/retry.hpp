#pragma once
/// When a failed send is tried again: 1 s after the first failure, doubling after each further
/// one, at most 30 s apart; a success starts over. Plain value, no clock.

#include <algorithm>
#include <cstdint>

namespace veil::messenger {

class RetryBackoff final {
public:
    static constexpr std::uint64_t kFirstMs = 1'000;
    static constexpr std::uint64_t kMaxMs = 30'000;

    /// The delay before the next try, after one more failure.
    std::uint64_t next_ms() {
        delay_ms_ = delay_ms_ == 0 ? kFirstMs : std::min(kMaxMs, delay_ms_ * 2);
        return delay_ms_;
    }
    /// After a success: the next failure waits kFirstMs again.
    void reset() { delay_ms_ = 0; }

private:
    std::uint64_t delay_ms_ = 0;
};

}  // namespace veil::messenger
