#pragma once
/// Keeps the client's manifest fresh: fetches it from a random known node, accepts it only when
/// signed by enough configured authorities and newer than the one held, and reports each
/// accepted one. It asks with the version it holds, so a node answers "current", a diff, or the
/// whole manifest; a diff is applied to the held manifest and the result verified like a whole
/// one (a diff that does not verify is refused and the whole manifest fetched instead). Only a
/// fresh client (no manifest yet, not even a cached one) asks the seeds directly; once a
/// transport is set and a manifest is held, every refresh asks a listed node through that
/// transport (the onion), so no node but the guard learns the client's address. Loop-thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "veil/proto/manifest.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

struct ManifestSourceOptions {
    std::vector<std::string> seeds;                 ///< host:port of nodes to ask first
    std::vector<proto::PublicKey> authorities;  ///< Ed25519 keys whose signatures count
    std::size_t threshold = 0;                      ///< how many of them must sign; 0: more than half
    std::uint32_t request_timeout_ms = 5'000;
    std::size_t attempts = 3;                       ///< nodes asked per refresh
};

class ManifestSource final {
public:
    /// Called with each accepted manifest and its exact signed envelope.
    using Accepted = std::function<void(const proto::SignedManifest&, const wire::Bytes& envelope)>;
    /// Carries a request through the client's transport; `done` runs once, on the loop thread.
    using Send = std::function<void(sdk::transport::Request,
                                    std::function<void(sdk::Result<sdk::transport::Response>)> done)>;

    /// Requests made, by how they travelled.
    struct Stats {
        std::uint64_t direct = 0;             ///< straight to a seed or node (bootstrap only, with a transport set)
        std::uint64_t through_transport = 0;  ///< to a listed node through the transport
    };

    ManifestSource(uv_loop_t* loop, ManifestSourceOptions options, Accepted on_accepted);
    ~ManifestSource();
    ManifestSource(const ManifestSource&) = delete;
    ManifestSource& operator=(const ManifestSource&) = delete;

    /// Offers an envelope (a fetch result or the disk cache). Returns why it was refused, or
    /// nothing when accepted (on_accepted has run).
    std::optional<std::string> offer(wire::ByteView envelope);

    /// Every refresh made while a manifest is held goes through `send` (the client's onion).
    /// Without it (node-side tools, test rigs) every refresh asks nodes directly.
    void set_transport(Send send) { send_ = std::move(send); }

    /// Takes a node's get_manifest answer: a whole manifest (offer), "current", or a diff from
    /// the held one. Returns why it was refused, or nothing when the held manifest is now the
    /// node's (accepted, or already current).
    std::optional<std::string> take(const proto::node::ManifestResponse& answer);

    /// Asks up to `attempts` random known nodes for their manifest (listed nodes through the
    /// transport once a manifest is held, the seeds directly before), until one brings a newer
    /// manifest ("current" answers do not end the refresh); `done` (optional) runs once with
    /// true if one answered with a manifest that was accepted or already current.
    void refresh(std::function<void(bool)> done = {});

    [[nodiscard]] const Stats& stats() const { return stats_; }

    [[nodiscard]] std::uint64_t version() const { return verifier_.accepted_version(); }
    [[nodiscard]] const wire::Bytes& envelope() const { return envelope_; }
    [[nodiscard]] const std::optional<proto::Manifest>& manifest() const { return manifest_; }
    /// Valid signatures of distinct configured authorities on the held manifest.
    [[nodiscard]] std::size_t signatures() const { return signatures_; }
    [[nodiscard]] const proto::ManifestVerifier& verifier() const { return verifier_; }

private:
    // After a node's answer: finished (it brought a newer manifest), ask the same node for the
    // whole manifest (its diff did not verify), or ask the next node; `current` (the node has
    // nothing newer) asks the next node too: a node behind, or lying, must not end a refresh.
    enum class Next { done, whole_from_same, next_node, current };
    Next settle(const std::function<proto::node::ManifestResponse()>& decode, bool whole);
    // The version to ask with (none: send the whole manifest).
    [[nodiscard]] std::optional<std::uint64_t> held_version(bool whole) const;
    // `answered`: a node of this refresh already said the held manifest is current.
    void ask(std::vector<std::string> addresses, std::function<void(bool)> done, bool whole = false, bool answered = false);
    void ask_through(std::vector<proto::NodeEntry> nodes, std::function<void(bool)> done, bool whole = false,
                     bool answered = false);
    std::vector<std::string> candidates() const;

    ManifestSourceOptions options_;
    Accepted on_accepted_;
    proto::ManifestVerifier verifier_;
    wire::Bytes envelope_;
    std::optional<proto::Manifest> manifest_;
    std::optional<proto::SignedManifest> held_;  // what diffs apply to
    std::size_t signatures_ = 0;
    sdk::net::ClientPool clients_;
    Send send_;
    Stats stats_;
    std::uint32_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The node RPC bytes of a get_manifest request, for the "storage" service; `held` is the version
/// the asker holds (none: send the whole manifest).
wire::Bytes manifest_request_body(std::uint32_t id, std::optional<std::uint64_t> held = std::nullopt);
/// The same, framed as a service request (to send on a direct connection).
wire::Bytes encode_manifest_request(std::uint32_t id, std::optional<std::uint64_t> held = std::nullopt);
/// The answer in a node's storage answer; throws wire::DecodeError if it is not one.
proto::node::ManifestResponse manifest_answer(const sdk::transport::Response& answer);
/// The same from a framed response (a direct connection).
proto::node::ManifestResponse decode_manifest_answer(wire::ByteView framed);

}  // namespace veil::network
