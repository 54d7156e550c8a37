#pragma once
/// The client's calls to the storage RPC of service nodes, through whichever transport is
/// enabled (transport::Request on the bus, so onion routing by default). Picks a member of the
/// mailbox's swarm from the manifest, moves on to another member when one fails, and follows a
/// node's redirect when the client's manifest is stale. Loop-thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "veil/proto/manifest.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/bus.hpp"

namespace veil::network {

class SwarmClient final {
public:
    using Done = std::function<void(sdk::Result<proto::node::Response>)>;

    /// `manifest` returns the current manifest (nullptr before the first).
    SwarmClient(sdk::Bus& bus, std::function<const proto::Manifest*()> manifest,
                std::uint32_t timeout_ms = 10'000);
    ~SwarmClient();
    SwarmClient(const SwarmClient&) = delete;
    SwarmClient& operator=(const SwarmClient&) = delete;

    /// Sends a mailbox request (store, retrieve, delete, expire, subscribe, get_swarm) to a
    /// member of the mailbox's swarm, trying up to `attempts` members. The node's answer
    /// (whatever its status) comes back as the value; transport failures on every attempt as
    /// an Error.
    void to_swarm(const proto::node::PublicKey& mailbox, proto::node::RequestBody body, Done done, std::size_t attempts = 3);

    /// Sends a request to one named node (info, get_manifest).
    void to_node(const proto::NodeEntry& target, proto::node::RequestBody body, Done done);

private:
    struct Call;
    void attempt(std::shared_ptr<Call> call);

    sdk::Bus& bus_;
    std::function<const proto::Manifest*()> manifest_;
    std::uint32_t timeout_ms_;
    std::uint32_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The mailbox a request body addresses (nullopt for info, get_manifest, peer).
std::optional<proto::node::PublicKey> mailbox_of(const proto::node::RequestBody& body);

}  // namespace veil::network
