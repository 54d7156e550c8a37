#pragma once
// The configuration of the in-memory authorities of the unit tests: 1 s periods, manifests valid
// for 5, nodes dropped after 10 silent periods, every key of `keys` an authority.
#include "authority.hpp"

namespace veil::directory::test {

inline constexpr std::uint64_t kPeriodMs = 1000;
inline constexpr std::uint64_t kStart = 1'700'000'000'000;  // a period boundary

inline AuthorityConfig authority_config(const std::vector<crypto::SigningKeyPair>& keys) {
    AuthorityConfig c;
    c.consensus.period_ms = kPeriodMs;
    c.consensus.validity_ms = 5 * kPeriodMs;
    c.registry.heartbeat_timeout_ms = 10 * kPeriodMs;
    for (const auto& k : keys) c.authority_keys.push_back(k.pub);
    return c;
}

}  // namespace veil::directory::test
