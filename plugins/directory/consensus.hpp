#pragma once
/// How the directory authorities turn their votes into one manifest. Pure logic: every honest
/// authority that holds the same votes and the same previous consensus computes the same body
/// byte for byte, so their signatures add up on one manifest (docs/directory.md).

#include <optional>
#include <vector>

#include "assignment.hpp"
#include "veil/proto/vote.hpp"

namespace veil::directory {

// The authority signs the SDK's manifest format; its names are used unqualified here.
using namespace veil::proto;

/// What is the same for every authority of the network (network.toml and the period clock).
struct ConsensusParams {
    std::size_t authority_count = 1;  ///< N, all configured authorities (not only those that voted)
    AssignmentConfig assignment;
    std::uint64_t period_ms = 10'000;
    std::uint64_t validity_ms = 60'000;  ///< valid_until_ms = issued_ms + validity_ms
    bool test_network = false;
    std::uint16_t max_nodes_per_block = 0;
};

/// The period a moment falls in (periods count from the Unix epoch; the period index is the
/// manifest version, so it never goes back, not even across restarts), and when it starts.
[[nodiscard]] std::uint64_t period_of(std::uint64_t now_ms, std::uint64_t period_ms);
[[nodiscard]] std::uint64_t period_start_ms(std::uint64_t period, std::uint64_t period_ms);

/// The nodes listed identically (same keys, host and port) by more than half of ALL
/// params.authority_count authorities. Votes of another period, and a second vote of one
/// authority, are ignored: one authority, one vote.
[[nodiscard]] std::vector<VotedNode> majority_nodes(const std::vector<Vote>& votes, std::uint64_t period,
                                                    std::size_t authority_count);

/// Swarms of the included nodes: a node keeps the swarm `previous` gave it, new nodes are
/// placed and swarms rebalanced by SwarmAssigner's rules. A function of its inputs only.
[[nodiscard]] std::vector<NodeEntry> assign(const std::vector<VotedNode>& included, const Manifest* previous,
                                            const AssignmentConfig& config);

/// The consensus manifest of `period`: majority_nodes, then assign, stamped with the period
/// (version, issued_ms, valid_until_ms) and the network parameters.
[[nodiscard]] Manifest form_consensus(const std::vector<Vote>& votes, std::uint64_t period, const Manifest* previous,
                                      const ConsensusParams& params);

}  // namespace veil::directory
