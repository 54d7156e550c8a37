#include "consensus.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "admission.hpp"

namespace veil::directory {

std::uint64_t period_of(std::uint64_t now_ms, std::uint64_t period_ms) { return now_ms / std::max<std::uint64_t>(1, period_ms); }

std::uint64_t period_start_ms(std::uint64_t period, std::uint64_t period_ms) { return period * std::max<std::uint64_t>(1, period_ms); }

std::vector<VotedNode> majority_nodes(const std::vector<Vote>& votes, std::uint64_t period, std::size_t authority_count) {
    std::set<PublicKey> voted;
    std::map<VotedNode, std::size_t> count;
    for (const auto& v : votes) {
        if (v.period != period || !voted.insert(v.authority).second) continue;
        for (const auto& n : v.nodes) ++count[n];
    }
    std::vector<VotedNode> out;  // in key order: the map is ordered by ed25519 first
    for (const auto& [node, n] : count)
        if (2 * n > authority_count) out.push_back(node);
    return out;
}

std::vector<NodeEntry> assign(const std::vector<VotedNode>& included, const Manifest* previous,
                              const AssignmentConfig& config) {
    SwarmAssigner assigner(config);
    for (const auto& n : included) {
        const NodeEntry* before = previous ? previous->find(n.ed25519) : nullptr;
        // Swarms spread over address blocks; a loopback test network is one block.
        auto block = config.spread_blocks ? address_block(n.host) : std::string();
        if (before) assigner.keep_node(n.ed25519, before->swarm, block);
        else assigner.add_node(n.ed25519, block);
    }
    assigner.rebalance();
    std::vector<NodeEntry> out;
    for (const auto& n : included) out.push_back(NodeEntry{n.ed25519, n.x25519, n.host, n.port, assigner.swarm_of(n.ed25519)});
    return out;
}

Manifest form_consensus(const std::vector<Vote>& votes, std::uint64_t period, const Manifest* previous,
                        const ConsensusParams& params) {
    Manifest m;
    m.version = period;
    m.issued_ms = period_start_ms(period, params.period_ms);
    m.valid_until_ms = m.issued_ms + params.validity_ms;
    m.test_network = params.test_network;
    m.max_nodes_per_block = params.max_nodes_per_block;
    auto assignment = params.assignment;
    assignment.spread_blocks = !params.test_network;
    m.nodes = assign(majority_nodes(votes, period, params.authority_count), previous, assignment);
    return m;
}

}  // namespace veil::directory
