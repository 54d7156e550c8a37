#pragma once
/// The Veil network's membership on the bus: the latest verified manifest (every service node's
/// keys, address and swarm). On a client the `network` plugin publishes it (fetched from seed or
/// known nodes, accepted only when signed by enough configured authorities, never a lower
/// version); on a service node the `service-node` plugin does. Consumers use the decoded
/// manifest as it is: it is verified before it reaches the bus, and nobody decodes it again.

#include <cstdint>
#include <memory>
#include <string_view>

#include "veil/proto/manifest.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sdk::network {

/// Event: a newer verified manifest was accepted.
struct ManifestUpdated {
    static constexpr std::string_view topic = "veil.network.manifest_updated";
    std::uint64_t version = 0;
    std::shared_ptr<const proto::Manifest> manifest;  ///< decoded, verified; never null
    wire::Bytes signed_manifest;                       ///< the authority-signed envelope (to cache or serve)
};

/// Reply of GetManifest.
struct ManifestReply {
    std::uint64_t version = 0;
    std::shared_ptr<const proto::Manifest> manifest;  ///< never null
    wire::Bytes signed_manifest;
};

/// Request: the latest accepted manifest. Before the first one was accepted it waits up to
/// `wait_ms` for it (the network plugin's one wait: it asks nodes again meanwhile), then fails
/// with not_found. Give the bus request a deadline above `wait_ms`, or 0.
struct GetManifest {
    static constexpr std::string_view topic = "veil.network.get_manifest";
    using Reply = ManifestReply;
    std::uint32_t wait_ms = 0;  ///< 0: answer at once
};

}  // namespace veil::sdk::network
