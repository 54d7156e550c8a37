#pragma once
/// Calls to the storage RPC of service nodes (proto/node_rpc.hpp) on the bus. On a client the
/// `network` plugin serves them: it picks the members of a mailbox's swarm from its verified
/// manifest and carries each node request as transport::Request through the enabled transport
/// (onion by default), so a caller never holds a manifest, a node list or a transport itself.
///
/// A call that arrives before the first manifest waits for it, up to its `timeout_ms`, then
/// fails with not_found. The server always answers (every step has a deadline), so a requester
/// may pass 0 as the bus timeout. Requests may be sent from any thread; replies arrive on the
/// loop thread (bus.hpp).
///
/// What the node answers is the value, whatever its status (ok, unauthorized, too_large, ...),
/// except the statuses that mean "ask another member": wrong_swarm (the node names the right
/// members; ToSwarm follows it), not_ready and internal. Errors are about reaching nodes:
///  - not_found: no manifest within the wait;
///  - unreachable: the manifest has no swarm for the mailbox, or (with timeout, closed, ...) the
///    transport's error for the last member tried;
///  - refused: the members tried answered wrong_swarm, not_ready or internal;
///  - handler_failed: the destination has no storage service; bad_input: a malformed answer.

#include <cstdint>
#include <string_view>
#include <vector>

#include "veil/proto/manifest.hpp"
#include "veil/proto/node_rpc.hpp"

namespace veil::sdk::swarm {

/// Default deadline of one node request (onion hops included), and of the wait for a manifest.
inline constexpr std::uint32_t kDefaultTimeoutMs = 10'000;

/// Request: a mailbox request (store, retrieve, delete, expire, subscribe, get_swarm) to one
/// member of the mailbox's swarm, chosen at random; on a failure the next member is tried, up
/// to `attempts` in all, and a wrong_swarm answer (a stale manifest) is followed to the members
/// the node names. Replies with that member's answer.
struct ToSwarm {
    static constexpr std::string_view topic = "veil.swarm.to_swarm";
    using Reply = proto::node::Response;
    proto::node::PublicKey mailbox{};            ///< whose swarm (usually the body's mailbox)
    proto::node::RequestBody body;
    std::uint32_t attempts = 3;                  ///< members tried at most
    std::uint32_t timeout_ms = kDefaultTimeoutMs;  ///< per member; also the longest manifest wait
};

/// Reply of ToEveryMember: one answer per member that answered, in arrival order.
struct MemberAnswers {
    std::vector<proto::node::Response> answers;  ///< never empty; statuses as the nodes gave them
};

/// Request: the same request to every member of the mailbox's swarm at once (a store that no
/// single crashed member can hide; a read that sees the newest copy before replication ends).
/// Replies once every member answered or failed; fails only when none answered, with the last
/// member's error.
struct ToEveryMember {
    static constexpr std::string_view topic = "veil.swarm.to_every_member";
    using Reply = MemberAnswers;
    proto::node::PublicKey mailbox{};
    proto::node::RequestBody body;
    std::uint32_t timeout_ms = kDefaultTimeoutMs;  ///< per member; also the longest manifest wait
};

/// Request: a request to one named node (info, get_manifest, or a page of a mailbox from the
/// member that gave the cursor). No retry, no manifest needed. Replies with the node's answer.
struct ToNode {
    static constexpr std::string_view topic = "veil.swarm.to_node";
    using Reply = proto::node::Response;
    proto::NodeEntry node;
    proto::node::RequestBody body;
    std::uint32_t timeout_ms = kDefaultTimeoutMs;
};

}  // namespace veil::sdk::swarm
