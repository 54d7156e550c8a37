#pragma once
/// Which swarm holds a mailbox: Oxen's rule on the 64-bit ring.

#include <span>
#include <vector>

#include "veil/proto/types.hpp"

namespace veil::proto {

/// The mailbox key's position on the ring: the XOR of its four 8-byte words, read big-endian.
[[nodiscard]] std::uint64_t swarm_space_position(const PublicKey& mailbox);

/// The swarm nearest to position on the ring (distances wrap around 2^64). When two swarms are
/// equally near, the one reached going down from position wins: in the ring's interior that is
/// the lower id (Oxen's tie rule). ids must be sorted ascending and unique; kInvalidSwarm if empty.
[[nodiscard]] SwarmId nearest_swarm(std::span<const SwarmId> sorted_ids, std::uint64_t position);

/// nearest_swarm of the mailbox's position.
[[nodiscard]] SwarmId swarm_for_mailbox(std::span<const SwarmId> sorted_ids, const PublicKey& mailbox);

}  // namespace veil::proto
