#pragma once
/// The service node's contract with the plugins that run beside it in the same process (the
/// onion relay, the attachment store): what they may ask of the node's identity without ever
/// reading its key file. Served by the `service-node` plugin from its start; a plugin using
/// them requires `service-node` in its descriptor, so it starts after (and stops before) it.
/// Membership is not here: the service node publishes sdk::network::ManifestUpdated whenever it
/// accepts a newer verified manifest and serves sdk::network::GetManifest, as a client's
/// `network` plugin does; a plugin finds its own swarm with Manifest::find(identity.ed25519).

#include <memory>
#include <string_view>

#include "veil/crypto/key_agreement.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/sdk/commands.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sdk::node {

/// The operator's command on a node's config (`veil --config FILE node status`).
inline constexpr std::string_view kOperatorCommand = "node";

/// True when this process runs the operator's command: the node itself runs in another process
/// and holds the ports and files, so the node's plugins start nothing (the service node only
/// registers the command).
inline bool runs_operator_command(const CommandRegistry& commands) {
    const auto& argv = commands.invocation();
    return argv && !argv->empty() && argv->front() == kOperatorCommand;
}

/// Reply of GetNodeIdentity: the node's public keys (as listed in the manifest).
struct NodeIdentity {
    crypto::PublicKey ed25519{};  ///< its name in the manifest; verifies what Sign signed
    crypto::PublicKey x25519{};   ///< onion layers are sealed to this key
};

/// Request: the node's public keys. Never fails while the service node runs.
struct GetNodeIdentity {
    static constexpr std::string_view topic = "veil.node.get_identity";
    using Reply = NodeIdentity;
};

/// Reply of Sign.
struct Signed {
    crypto::Signature signature{};
};

/// Request: an Ed25519 signature of `message` by the node key (e.g. a request to a swarm peer
/// that proves which node asks). Only co-located plugins can ask: the bus is in-process.
/// The node signs only messages that start with a domain tag on its allow-list and refuses the
/// rest (ErrorCode::refused): the attachment store's list request (veil/proto/blob_rpc.hpp
/// kListDomain) and the tags an operator adds with `[service-node] sign_domains` for their own
/// plugins. Tags starting with "veil-" are reserved, so no plugin can get the node's signature on
/// a peer envelope, a descriptor or any other message of the node's own protocol.
struct Sign {
    static constexpr std::string_view topic = "veil.node.sign";
    using Reply = Signed;
    wire::Bytes message;
};

/// Reply of GetKeyAgreement.
struct KeyAgreementReply {
    /// X25519 with the node's onion key; never null. Holders keep it no longer than their
    /// plugin runs (drop it in stop()).
    std::shared_ptr<const crypto::KeyAgreement> agreement;
};

/// Request: the capability to do X25519 with the node's onion key (the relay asks once at its
/// start and opens every layer with it). The secret never leaves the service node's object.
struct GetKeyAgreement {
    static constexpr std::string_view topic = "veil.node.get_key_agreement";
    using Reply = KeyAgreementReply;
};

}  // namespace veil::sdk::node
