#pragma once
/// Keeps the client's manifest fresh: fetches it from a random known node (the seeds first,
/// then any node the manifest lists), accepts it only when signed by enough configured
/// authorities and newer than the one held, and reports each accepted one. Loop-thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "veil/proto/manifest.hpp"
#include "veil/sdk/net.hpp"

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

    ManifestSource(uv_loop_t* loop, ManifestSourceOptions options, Accepted on_accepted);
    ~ManifestSource();
    ManifestSource(const ManifestSource&) = delete;
    ManifestSource& operator=(const ManifestSource&) = delete;

    /// Offers an envelope (a fetch result or the disk cache). Returns why it was refused, or
    /// nothing when accepted (on_accepted has run).
    std::optional<std::string> offer(wire::ByteView envelope);

    /// Asks up to `attempts` random known nodes for their manifest; `done` (optional) runs once
    /// with true if one answered with a manifest that was accepted or already current.
    void refresh(std::function<void(bool)> done = {});

    [[nodiscard]] std::uint64_t version() const { return verifier_.accepted_version(); }
    [[nodiscard]] const wire::Bytes& envelope() const { return envelope_; }
    [[nodiscard]] const std::optional<proto::Manifest>& manifest() const { return manifest_; }
    /// Valid signatures of distinct configured authorities on the held manifest.
    [[nodiscard]] std::size_t signatures() const { return signatures_; }
    [[nodiscard]] const proto::ManifestVerifier& verifier() const { return verifier_; }

private:
    void ask(std::vector<std::string> addresses, std::function<void(bool)> done);
    std::vector<std::string> candidates() const;

    ManifestSourceOptions options_;
    Accepted on_accepted_;
    proto::ManifestVerifier verifier_;
    wire::Bytes envelope_;
    std::optional<proto::Manifest> manifest_;
    std::size_t signatures_ = 0;
    sdk::net::ClientPool clients_;
    std::uint32_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The node RPC bytes of a get_manifest request, framed for the "storage" service.
wire::Bytes encode_manifest_request(std::uint32_t id);
/// The envelope from a node's framed answer; throws wire::DecodeError if it is not one.
wire::Bytes decode_manifest_answer(wire::ByteView framed);

}  // namespace veil::network
