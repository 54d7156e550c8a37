#include "veil/proto/swarm.hpp"

#include <algorithm>

namespace veil::proto {

std::uint64_t swarm_space_position(const PublicKey& mailbox) {
    std::uint64_t pos = 0;
    for (std::size_t word = 0; word < 4; ++word) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | mailbox[word * 8 + i];
        pos ^= v;
    }
    return pos;
}

SwarmId nearest_swarm(std::span<const SwarmId> sorted_ids, std::uint64_t position) {
    if (sorted_ids.empty()) return kInvalidSwarm;
    // The first swarm at or after position (wrapping to the front) and the one before it.
    auto it = std::lower_bound(sorted_ids.begin(), sorted_ids.end(), position);
    SwarmId right = it == sorted_ids.end() ? sorted_ids.front() : *it;
    if (right == position) return right;
    SwarmId left = it == sorted_ids.begin() ? sorted_ids.back() : *(it - 1);
    // Unsigned subtraction is distance modulo 2^64, which is exactly the ring.
    std::uint64_t to_right = right - position;
    std::uint64_t to_left = position - left;
    return to_right < to_left ? right : left;
}

SwarmId swarm_for_mailbox(std::span<const SwarmId> sorted_ids, const PublicKey& mailbox) {
    return nearest_swarm(sorted_ids, swarm_space_position(mailbox));
}

}  // namespace veil::proto
