#pragma once
/// A directory authority's vote: the nodes it sees alive at the start of one period, signed by
/// the authority. Authorities exchange votes (directory RPC post_vote) and each forms the same
/// consensus from them (docs/directory.md). Format:
///   body     = u8 format (1) | u64 period | authority(32) | u32 count | count x node
///   node     = ed25519(32) | x25519(32) | str(host) | u16 port        sorted by ed25519, unique
///   envelope = var(body) | signature(64) by authority over "veil-vote-v1" || body
/// Decoders throw wire::DecodeError.

#include <vector>

#include "veil/proto/manifest.hpp"

namespace veil::proto {

/// A node as a vote lists it: what it registered, no swarm yet.
struct VotedNode {
    PublicKey ed25519{};
    PublicKey x25519{};
    std::string host;
    std::uint16_t port = 0;
    auto operator<=>(const VotedNode&) const = default;
};

/// One authority's view of one period.
struct Vote {
    std::uint64_t period = 0;
    PublicKey authority{};
    std::vector<VotedNode> nodes;  ///< sorted by ed25519, unique
    bool operator==(const Vote&) const = default;
};

/// Signs a vote with the authority key (vote.authority must be its public key); sorts the nodes.
[[nodiscard]] wire::Bytes sign_vote(Vote vote, const crypto::SigningKeyPair& key);
/// Parses an envelope and checks the signature by the authority it names (the caller checks that
/// this authority is a configured one). Throws wire::DecodeError.
[[nodiscard]] Vote decode_verified_vote(wire::ByteView envelope);

/// What an authority sends the others once it formed a period's consensus: its signature over
/// the body it computed (manifest_signed_bytes). Format: u64 version | authority(32) | sig(64).
struct ConsensusSignature {
    std::uint64_t version = 0;
    PublicKey authority{};
    Signature signature{};
    bool operator==(const ConsensusSignature&) const = default;
};

[[nodiscard]] wire::Bytes encode_consensus_signature(const ConsensusSignature& s);
/// Parses one (the signature is checked by the receiver against its own body).
[[nodiscard]] ConsensusSignature decode_consensus_signature(wire::ByteView b);

}  // namespace veil::proto
