#pragma once
/// Small fixed-size types of the network protocol, shared by the directory, the service nodes and
/// their clients. Keys and signatures are veil::crypto's.

#include <array>
#include <cstdint>
#include <limits>

#include "veil/crypto/keys.hpp"

namespace veil::proto {

using crypto::PublicKey;
using crypto::Signature;
/// A BLAKE2b-256 digest.
using Hash = std::array<std::uint8_t, 32>;
/// A swarm's position on the 64-bit ring.
using SwarmId = std::uint64_t;

/// Reserved: never the id of a real swarm (Oxen's convention).
inline constexpr SwarmId kInvalidSwarm = std::numeric_limits<SwarmId>::max();

}  // namespace veil::proto
