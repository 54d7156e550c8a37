#pragma once
/// Onion packets: what a client seals around a request so that each hop learns only its two
/// neighbours, and how a hop or the destination opens its layer. A Sphinx-style packet: a
/// fixed-size routing header (one slot per hop, shifted and refilled at each hop) and a payload
/// that each relay re-encrypts, so every hop sees the same size and no path can be longer than
/// the header allows. Pure functions, no I/O; safe to call from any thread. See docs/onion.md
/// for the byte layout and the threat notes.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "veil/crypto/key_agreement.hpp"
#include "veil/sdk/onion.hpp"
#include "veil/wire/codec.hpp"

namespace veil::onion {

using wire::ByteView;
using wire::Bytes;
using Key32 = std::array<std::uint8_t, 32>;
using sdk::onion::HopFailure;

/// 3: per-hop times, answers re-encrypted at each hop, typed failures sealed by the hop that saw
/// them. Packets of other versions are refused.
inline constexpr std::uint8_t kLayerVersion = 3;
/// A layer's time is backdated by up to this much, independently at each hop, so that no two
/// hops of a path see the same value.
inline constexpr std::uint64_t kTimeJitterMs = 30'000;
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

/// Secret keys a client keeps to read what comes back on one path; wiped when destroyed.
struct ReturnKeys {
    std::vector<Key32> reply;  ///< per node, guard first, destination last: opens what that node sealed
    std::vector<Key32> peel;   ///< per relay, guard first: removes the layer it added on the way back
    ReturnKeys() = default;
    ReturnKeys(const ReturnKeys&) = default;
    ReturnKeys& operator=(const ReturnKeys&) = default;
    ReturnKeys(ReturnKeys&&) = default;
    ReturnKeys& operator=(ReturnKeys&&) = default;
    ~ReturnKeys();
};

/// What a client sends to the first hop, and what it keeps to read the answer.
struct SealedRequest {
    Bytes blob;          ///< padded to a size bucket; send this to the first relay
    ReturnKeys keys;     ///< secret: reads the answer (open_answer)
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
    Key32 return_key{};      ///< forward, secret: the layer this relay adds to what comes back
    // deliver: the request for this node
    std::string service;
    Bytes body;
    /// Secret: seals this node's answer (deliver: seal_response) or failure (forward:
    /// seal_failure) to the client.
    Key32 response_key{};
};

/// Opens the outermost layer of `blob` with this node's X25519 key (whose secret stays inside
/// `node_key`). Throws LayerError on anything wrong. Does not check replays (see ReplayGuard).
OpenedLayer open_layer(ByteView blob, const crypto::KeyAgreement& node_key);

/// Destination side: encrypts `reply` for the client, padded to a size bucket.
Bytes seal_response(const Key32& response_key, ByteView reply);

/// Relay side: a failure this relay saw, sealed for the client (the smallest bucket).
Bytes seal_failure(const Key32& response_key, HopFailure failure);

/// Relay side: re-encrypts an answer passing back through this relay (same size), so that no
/// two links carry the same bytes.
void add_return_layer(const Key32& return_key, Bytes& answer);

/// What came back on a path, as the client reads it.
struct Answer {
    std::size_t from = 0;               ///< who sealed it: 0 = guard, ..., reply.size() - 1 = destination
    std::optional<HopFailure> failure;  ///< a relay's failure (its next hop, `from + 1`, failed)
    Bytes reply;                        ///< the destination's answer
};

/// Client side: peels the relays' layers and opens what one node of the path sealed: the
/// destination's answer, or a relay's failure. Throws LayerError if no node's key opens it
/// (altered, forged, or from a hop that cannot prove it).
Answer open_answer(const ReturnKeys& keys, ByteView blob);

/// Client side: the destination's answer; throws LayerError for anything else (a failure too).
Bytes open_response(const ReturnKeys& keys, ByteView blob);

/// The smallest size bucket that holds n bytes (throws std::length_error past the largest).
std::size_t bucket_size(std::size_t n);

/// True when n is itself a size bucket. Hops and the client refuse any other size, so that no
/// hop can tag a packet or an answer by its length for a colluding hop further on.
bool is_bucket_size(std::size_t n);

/// Appends random bytes to `blob` up to its size bucket.
void pad_to_bucket(Bytes& blob);

}  // namespace veil::onion
