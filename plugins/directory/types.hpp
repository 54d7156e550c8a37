#pragma once
/// Small fixed-size types shared by the directory, the service nodes and their clients.

#include <array>
#include <cstdint>
#include <limits>

namespace veil::directory {

/// An Ed25519 or X25519 public key (32 bytes).
using PublicKey = std::array<std::uint8_t, 32>;
/// A detached Ed25519 signature (64 bytes).
using Signature = std::array<std::uint8_t, 64>;
/// A BLAKE2b-256 digest.
using Hash = std::array<std::uint8_t, 32>;
/// A swarm's position on the 64-bit ring.
using SwarmId = std::uint64_t;

/// Reserved: never the id of a real swarm (Oxen's convention).
inline constexpr SwarmId kInvalidSwarm = std::numeric_limits<SwarmId>::max();

}  // namespace veil::directory
