#pragma once
/// The client's calls to the storage RPC of service nodes, through whichever transport is
/// enabled (transport::Request on the bus, so onion routing by default). Picks a member of the
/// mailbox's swarm from the manifest, moves on to another member when one fails, and follows a
/// node's redirect when the client's manifest is stale. The implementation of the swarm::*
/// contracts (veil/sdk/swarm.hpp, whose comment lists the errors). Loop-thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "veil/proto/manifest.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/bus.hpp"

namespace veil::network {

class SwarmClient final {
public:
    using Done = std::function<void(sdk::Result<proto::node::Response>)>;
    using AllDone = std::function<void(sdk::Result<std::vector<proto::node::Response>>)>;

    /// `manifest` returns the current manifest (nullptr before the first).
    SwarmClient(sdk::Bus& bus, std::function<const proto::Manifest*()> manifest);
    ~SwarmClient();
    SwarmClient(const SwarmClient&) = delete;
    SwarmClient& operator=(const SwarmClient&) = delete;

    /// Sends a mailbox request (store, retrieve, delete, expire, subscribe, get_swarm) to a
    /// member of the mailbox's swarm, trying up to `attempts` members, each with `timeout_ms`.
    /// The node's answer (whatever its status) comes back as the value; transport failures on
    /// every attempt as an Error.
    void to_swarm(const proto::node::PublicKey& mailbox, proto::node::RequestBody body, std::uint32_t timeout_ms,
                  Done done, std::size_t attempts = 3);

    /// Sends the request to every member of the mailbox's swarm at once; `done` with every
    /// answer once all answered or failed, or with the last error when none answered.
    void to_every_member(const proto::node::PublicKey& mailbox, const proto::node::RequestBody& body,
                         std::uint32_t timeout_ms, AllDone done);

    /// Sends a request to one named node (info, get_manifest, a page from a given member).
    void to_node(const proto::NodeEntry& target, proto::node::RequestBody body, std::uint32_t timeout_ms, Done done);

private:
    struct Call;
    void attempt(std::shared_ptr<Call> call);

    sdk::Bus& bus_;
    std::function<const proto::Manifest*()> manifest_;
    std::uint32_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace veil::network
