#pragma once
/// One directory authority's own view: registered nodes and their heartbeats. What it sees alive
/// is its vote (consensus.hpp turns the votes of all authorities into the manifest). Pure logic
/// driven by the caller's clock (now_ms), single-threaded.

#include <map>
#include <vector>

#include "veil/proto/vote.hpp"

namespace veil::directory {

// The authority signs the SDK's manifest format; its names are used unqualified here.
using namespace veil::proto;

/// Timing rules for registrations.
struct RegistryConfig {
    std::uint64_t clock_window_ms = 5 * 60 * 1000;  ///< descriptor timestamps this close to now
    std::uint64_t heartbeat_timeout_ms = 60 * 1000;  ///< silent this long: removed from swarms
};

/// Why a registration was refused.
enum class RegisterResult : std::uint8_t {
    ok = 1,
    clock_out_of_window,  ///< timestamp too far from the authority's clock
    replayed,             ///< not newer than the last descriptor from this node
    address_taken,        ///< another live node already uses this host:port
};

[[nodiscard]] const char* to_string(RegisterResult r);

/// Registered nodes and their assignment.
class Registry final {
public:
    explicit Registry(RegistryConfig config);

    /// A verified descriptor (registration or heartbeat).
    RegisterResult heartbeat(const NodeDescriptor& d, std::uint64_t now_ms);
    /// Drops a node now (admission: it failed a re-check of its proof, or moved).
    void remove(const PublicKey& ed25519);
    /// Drops the nodes silent longer than heartbeat_timeout_ms.
    void tick(std::uint64_t now_ms);
    /// The live nodes, in key order: this authority's vote.
    [[nodiscard]] std::vector<VotedNode> view() const;
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }

private:
    RegistryConfig config_;
    std::map<PublicKey, NodeDescriptor> nodes_;
};

}  // namespace veil::directory
