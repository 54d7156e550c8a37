#pragma once
/// Onion packets: what a client seals around a request so that each hop learns only its two
/// neighbours, and how a hop or the destination opens its layer. A Sphinx-style packet: a
/// fixed-size routing header (one slot per hop, shifted and refilled at each hop) and a payload
/// that each relay re-encrypts, so every hop sees the same size and no path can be longer than
/// the header allows. Pure functions, no I/O; safe to call from any thread. See docs/onion.md
/// for the byte layout and the threat notes.

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "veil/crypto/key_agreement.hpp"
#include "veil/wire/codec.hpp"

namespace veil::onion {

using wire::ByteView;
using wire::Bytes;
using Key32 = std::array<std::uint8_t, 32>;

inline constexpr std::uint8_t kLayerVersion = 2;
/// Largest blob a hop accepts (the largest size bucket; attachments travel in chunks below it).
inline constexpr std::size_t kMaxBlobBytes = 16 * 1024 * 1024;
/// Nodes that open a header on one path: relays plus the destination. The header has one slot
/// each and stays the same size at every hop, so no client can build a longer path.
inline constexpr std::size_t kMaxPathNodes = 5;
/// Longest next-hop address a slot holds: "[IPv6]:port" (numeric addresses only).
inline constexpr std::size_t kMaxAddressBytes = 47;
inline constexpr std::size_t kMaxServiceBytes = 64;

/// Thrown for every malformed, oversized, undecryptable or replayed layer. The message is the
/// same short text in every case, so a prober learns nothing about which check failed.
class LayerError final : public std::runtime_error {
public:
    LayerError() : std::runtime_error("onion: bad layer") {}
};

/// A node as the client sees it in the manifest.
struct Hop {
    Key32 node_id{};        ///< the node's Ed25519 public key (its name in the manifest)
    Key32 onion_key{};      ///< the node's X25519 public key, which layers are sealed to
    std::string address;    ///< host:port
    bool operator==(const Hop&) const = default;
};

/// What a client sends to the first hop, and what it keeps to read the answer.
struct SealedRequest {
    Bytes blob;             ///< padded to a size bucket; send this to the first relay
    Key32 response_key{};   ///< secret: opens the destination's response; wipe after use
};

/// Seals `body` for `service` at `destination`, routed through `relays` (relays[0] is the guard).
/// Throws std::length_error if the result would exceed kMaxBlobBytes, a path has more than
/// kMaxPathNodes nodes, or an address is longer than kMaxAddressBytes.
SealedRequest seal_request(std::span<const Hop> relays, const Hop& destination,
                           std::string_view service, ByteView body, std::uint64_t now_ms);

enum class LayerKind : std::uint8_t { forward = 1, deliver = 2 };

/// The contents of one opened layer.
struct OpenedLayer {
    LayerKind kind{};
    std::uint64_t created_ms = 0;
    Key32 ephemeral_key{};   ///< the layer's ephemeral X25519 key (for replay detection)
    // forward: where to send `inner` next
    Key32 next_node_id{};
    std::string next_address;
    Bytes inner;             ///< the packet for the next hop, the same size as the one opened
    // deliver: the request for this node
    std::string service;
    Bytes body;
    Key32 response_key{};    ///< secret: seals the response to the client
};

/// Opens the outermost layer of `blob` with this node's X25519 key (whose secret stays inside
/// `node_key`). Throws LayerError on anything wrong. Does not check replays (see ReplayGuard).
OpenedLayer open_layer(ByteView blob, const crypto::KeyAgreement& node_key);

/// Destination side: encrypts `reply` for the client, padded to a size bucket.
Bytes seal_response(const Key32& response_key, ByteView reply);

/// Client side: opens what seal_response made. Throws LayerError if it was altered.
Bytes open_response(const Key32& response_key, ByteView blob);

/// The smallest size bucket that holds n bytes (throws std::length_error past the largest).
std::size_t bucket_size(std::size_t n);

/// Appends random bytes to `blob` up to its size bucket.
void pad_to_bucket(Bytes& blob);

}  // namespace veil::onion
