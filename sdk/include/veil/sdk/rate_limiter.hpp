#pragma once
/// Token bucket for services that must share a resource fairly between connections (the node's
/// storage RPC, swarm members, the attachment store): `rate` tokens a second up to `burst`; a
/// request costs `cost` tokens (default one). The caller passes the clock, so tests are
/// deterministic. Not thread-safe: one owner (usually the loop thread).

#include <cstdint>

#include "veil/sdk/export.hpp"

namespace veil::sdk {

class VEIL_SDK_API RateLimiter final {
public:
    RateLimiter(double rate_per_s, double burst);
    /// True (and takes the tokens) when the request may go on.
    bool allow(std::uint64_t now_ms, double cost = 1.0);
    /// True when allow(now_ms, cost) would be; takes nothing (to check several buckets first).
    [[nodiscard]] bool can(std::uint64_t now_ms, double cost = 1.0) const;
    /// When allow() was last called (for dropping idle limiters).
    [[nodiscard]] std::uint64_t last_ms() const { return last_ms_; }

private:
    double rate_per_ms_;
    double burst_;
    double tokens_;
    std::uint64_t last_ms_ = 0;
    bool started_ = false;
};

}  // namespace veil::sdk
