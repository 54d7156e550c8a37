#include "veil/sdk/rate_limiter.hpp"

#include <algorithm>

namespace veil::sdk {

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_per_ms_(rate_per_s / 1000.0), burst_(std::max(1.0, burst)), tokens_(burst_) {}

bool RateLimiter::allow(std::uint64_t now_ms, double cost) {
    if (started_ && now_ms > last_ms_) tokens_ = std::min(burst_, tokens_ + (now_ms - last_ms_) * rate_per_ms_);
    if (!started_ || now_ms > last_ms_) last_ms_ = now_ms;
    started_ = true;
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
}

bool RateLimiter::can(std::uint64_t now_ms, double cost) const {
    double tokens = tokens_;
    if (started_ && now_ms > last_ms_) tokens = std::min(burst_, tokens + (now_ms - last_ms_) * rate_per_ms_);
    return tokens >= cost;
}

}  // namespace veil::sdk
