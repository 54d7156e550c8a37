#pragma once
/// How the directory assigns nodes to swarms. Pure logic: no clock, no I/O.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "veil/proto/types.hpp"

namespace veil::directory {

// The authority signs the SDK's manifest format; its names are used unqualified here.
using namespace veil::proto;

/// Swarm sizes the directory aims for.
struct AssignmentConfig {
    std::size_t target_swarm_size = 3;  ///< K: new swarms get K nodes
    std::size_t min_swarm_size = 2;     ///< below this a swarm takes nodes from the largest
    bool spread_blocks = true;          ///< consensus: nodes' address blocks apart (off on test networks)
};

/// Holds every live node's swarm and applies the rules in rebalance():
///  1. spare nodes fill swarms below K, smallest first (ties: lower id);
///  2. a new swarm is made from K spares (or from any spares when there is no swarm at all);
///  3. remaining spares join the smallest swarms, so no node idles;
///  4. when the nodes beyond K in all swarms add up to K, they leave (largest swarm first) to
///     form a new swarm;
///  5. a swarm below min_swarm_size takes nodes from the largest swarm while that one stays larger.
/// Diversity: each node may carry its address block (/24 or /48, admission.hpp address_block).
/// Every rule above picks, among the nodes it may move, one whose block the receiving swarm does
/// not hold yet, and a node sharing its block with another member of its swarm leaves it (as a
/// spare) when another swarm lacks that block: two nodes of one block share a swarm only when the
/// network has no other place for them, so one operator's block never outvotes a swarm's others.
/// New swarm ids split the widest gap on the ring. Deterministic: the same inputs give the same
/// assignment. Single-threaded value.
class SwarmAssigner final {
public:
    explicit SwarmAssigner(AssignmentConfig config);

    /// A new node, spare until the next rebalance. No-op if already known. `block`: its address
    /// block (empty: shares no block with anyone).
    void add_node(const PublicKey& node, std::string block = {});
    /// A node that keeps the swarm a previous consensus gave it (until rebalance moves it).
    void keep_node(const PublicKey& node, SwarmId swarm, std::string block = {});
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
    using SwarmMap = std::map<SwarmId, std::vector<PublicKey>>;
    SwarmId new_swarm_id(const SwarmMap& swarms) const;
    /// Whether `node` shares no block with `members`.
    [[nodiscard]] bool fits(const std::vector<PublicKey>& members, const PublicKey& node) const;
    /// The smallest swarm `node` fits in (lowest id on ties), or nullopt.
    [[nodiscard]] std::optional<SwarmId> smallest_fitting(const SwarmMap& s, const PublicKey& node) const;
    /// Members sharing a block with an earlier member of their swarm become spares when another
    /// swarm has room for their block; true when any did.
    bool separate(SwarmMap& s, std::vector<PublicKey>& spares) const;
    /// Rules 1 to 5 (see the class comment).
    void place(SwarmMap& s, std::vector<PublicKey>& spares) const;
    AssignmentConfig config_;
    std::map<PublicKey, SwarmId> nodes_;
    std::map<PublicKey, std::string> blocks_;  ///< non-empty blocks only
};

}  // namespace veil::directory
