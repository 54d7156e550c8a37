#pragma once
/// How the directory assigns nodes to swarms. Pure logic: no clock, no I/O.

#include <map>
#include <vector>

#include "veil/proto/types.hpp"

namespace veil::directory {

// The authority signs the SDK's manifest format; its names are used unqualified here.
using namespace veil::proto;

/// Swarm sizes the directory aims for.
struct AssignmentConfig {
    std::size_t target_swarm_size = 3;  ///< K: new swarms get K nodes
    std::size_t min_swarm_size = 2;     ///< below this a swarm takes nodes from the largest
};

/// Holds every live node's swarm and applies the rules in rebalance():
///  1. spare nodes fill swarms below K, smallest first (ties: lower id);
///  2. a new swarm is made from K spares (or from any spares when there is no swarm at all);
///  3. remaining spares join the smallest swarms, so no node idles;
///  4. when the nodes beyond K in all swarms add up to K, they leave (largest swarm first) to
///     form a new swarm;
///  5. a swarm below min_swarm_size takes nodes from the largest swarm while that one stays larger.
/// New swarm ids split the widest gap on the ring. Deterministic: the same inputs give the same
/// assignment. Single-threaded value.
class SwarmAssigner final {
public:
    explicit SwarmAssigner(AssignmentConfig config);

    /// A new node, spare until the next rebalance. No-op if already known.
    void add_node(const PublicKey& node);
    /// A node that keeps the swarm a previous consensus gave it (until rebalance moves it).
    void keep_node(const PublicKey& node, SwarmId swarm);
    /// A node that left or stopped sending heartbeats.
    void remove_node(const PublicKey& node);
    /// Applies the rules; true when any node changed swarm.
    bool rebalance();

    /// The node's swarm, kInvalidSwarm if spare or unknown.
    [[nodiscard]] SwarmId swarm_of(const PublicKey& node) const;
    /// Every swarm with its members (in key order).
    [[nodiscard]] std::map<SwarmId, std::vector<PublicKey>> swarms() const;
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }

private:
    SwarmId new_swarm_id(const std::map<SwarmId, std::vector<PublicKey>>& swarms) const;
    AssignmentConfig config_;
    std::map<PublicKey, SwarmId> nodes_;
};

}  // namespace veil::directory
