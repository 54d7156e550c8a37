#pragma once
/// The client's view of the Veil network on the bus: the latest verified manifest (every
/// service node's keys, address and swarm). Served by the `network` plugin, which fetches it
/// from seed or known nodes and accepts only manifests signed by the configured authorities,
/// never a lower version. Consumers (the onion transport, the messenger) decode the envelope
/// with the directory library; it is already verified when it reaches the bus.

#include <cstdint>
#include <string_view>

#include "veil/wire/codec.hpp"

namespace veil::sdk::network {

/// Event: a newer verified manifest was accepted.
struct ManifestUpdated {
    static constexpr std::string_view topic = "veil.network.manifest_updated";
    std::uint64_t version = 0;
    wire::Bytes signed_manifest;  ///< the authority-signed envelope
};

/// Reply of GetManifest.
struct ManifestReply {
    std::uint64_t version = 0;
    wire::Bytes signed_manifest;
};

/// Request: the latest accepted manifest. Fails with not_found until one was accepted.
struct GetManifest {
    static constexpr std::string_view topic = "veil.network.get_manifest";
    using Reply = ManifestReply;
};

}  // namespace veil::sdk::network
