#pragma once
/// Keeps the client's manifest fresh: fetches it from a random known node, accepts it only when
/// signed by enough configured authorities and newer than the one held, and reports each
/// accepted one. Only a fresh client (no manifest yet, not even a cached one) asks the seeds
/// directly; once a transport is set and a manifest is held, every refresh asks a listed node
/// through that transport (the onion), so no node but the guard learns the client's address.
/// Loop-thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "veil/proto/manifest.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::network {

struct ManifestSourceOptions {
    std::vector<std::string> seeds;                 ///< host:port of nodes to ask first
    std::vector<proto::PublicKey> authorities;  ///< Ed25519 keys whose signatures count
    std::size_t threshold = 1;                      ///< how many of them must sign
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

    /// Asks up to `attempts` random known nodes for their manifest (listed nodes through the
    /// transport once a manifest is held, the seeds directly before); `done` (optional) runs
    /// once with true if one answered with a manifest that was accepted or already current.
    void refresh(std::function<void(bool)> done = {});

    [[nodiscard]] const Stats& stats() const { return stats_; }

    [[nodiscard]] std::uint64_t version() const { return verifier_.accepted_version(); }
    [[nodiscard]] const wire::Bytes& envelope() const { return envelope_; }
    [[nodiscard]] const std::optional<proto::Manifest>& manifest() const { return manifest_; }

private:
    void ask(std::vector<std::string> addresses, std::function<void(bool)> done);
    void ask_through(std::vector<proto::NodeEntry> nodes, std::function<void(bool)> done);
    // True if `answer` carried a manifest that was accepted or is already current.
    bool take_answer(const sdk::transport::Response& answer);
    std::vector<std::string> candidates() const;

    ManifestSourceOptions options_;
    Accepted on_accepted_;
    proto::ManifestVerifier verifier_;
    wire::Bytes envelope_;
    std::optional<proto::Manifest> manifest_;
    sdk::net::ClientPool clients_;
    Send send_;
    Stats stats_;
    std::uint32_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The node RPC bytes of a get_manifest request, for the "storage" service.
wire::Bytes manifest_request_body(std::uint32_t id);
/// The same, framed as a service request (to send on a direct connection).
wire::Bytes encode_manifest_request(std::uint32_t id);
/// The envelope from a node's storage answer; throws wire::DecodeError if it is not one.
wire::Bytes manifest_from_response(const sdk::transport::Response& answer);

}  // namespace veil::network
