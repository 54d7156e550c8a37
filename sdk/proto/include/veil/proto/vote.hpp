#pragma once
/// A directory authority's vote: the nodes it sees alive at the start of one period, signed by
/// the authority. Authorities exchange votes (directory RPC post_vote) and each forms the same
/// consensus from them (docs/directory.md). Format:
///   body     = u8 format (2) | u64 period | authority(32) | u64 previous_version | previous(32)
///              | u32 count | count x node
///   node     = ed25519(32) | x25519(32) | str(host) | u16 port        sorted by ed25519, unique
///   envelope = var(body) | signature(64) by authority over "veil-vote-v2" || body
///   relayed  = var(envelope) | u8 count | count x (authority(32) | signature(64) over
///              "veil-vote-relay-v1" || digest_of(envelope))           what post_vote carries
/// `previous` names the consensus the voter will build on (digest of its body; zero: none).
/// Relay signatures are the vote's chain of custody (Dolev-Strong): an authority signs a vote
/// it took and passes it on, and a vote is taken late only when more authorities vouch for it.
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
    std::vector<VotedNode> nodes;        ///< sorted by ed25519, unique
    std::uint64_t previous_version = 0;  ///< version of the consensus it builds on (0: none)
    Digest previous{};                   ///< digest_of that consensus's body (zero: none)
    bool operator==(const Vote&) const = default;
};

/// Signs a vote with the authority key (vote.authority must be its public key); sorts the nodes.
[[nodiscard]] wire::Bytes sign_vote(Vote vote, const crypto::SigningKeyPair& key);
/// Parses an envelope and checks the signature by the authority it names (the caller checks that
/// this authority is a configured one). Throws wire::DecodeError.
[[nodiscard]] Vote decode_verified_vote(wire::ByteView envelope);

/// Who signed a vote envelope and for which period, read WITHOUT checking anything but the
/// layout: only to refuse or recognise a vote before paying for its signature check.
struct VoteHeader {
    std::uint64_t period = 0;
    PublicKey authority{};
};
[[nodiscard]] VoteHeader peek_vote(wire::ByteView envelope);

/// A vote envelope as it travels between authorities, with the relay signatures of those that
/// took it and passed it on.
struct RelayedVote {
    wire::Bytes envelope;
    std::vector<std::pair<PublicKey, Signature>> relays;  ///< at most kMaxVoteRelays
    bool operator==(const RelayedVote&) const = default;
};
inline constexpr std::size_t kMaxVoteRelays = 16;

[[nodiscard]] wire::Bytes encode_relayed_vote(const RelayedVote& v);
/// Parses (signatures are not checked here: see relay_signature_valid). Throws wire::DecodeError.
[[nodiscard]] RelayedVote decode_relayed_vote(wire::ByteView b);
/// The relay signature `key` puts on a vote envelope it took.
[[nodiscard]] Signature sign_relay(wire::ByteView envelope, const crypto::SigningKeyPair& key);
[[nodiscard]] bool relay_signature_valid(wire::ByteView envelope, const PublicKey& authority, const Signature& sig);

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
