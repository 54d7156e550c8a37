#pragma once
/// What one authority sends one other authority next about votes (docs/directory.md, "Vote
/// delivery"): first its own votes, whole; then its signature on the consensus; then the others'
/// votes by digest (offer_vote), whole only when the peer answers that it lacks one; never a vote
/// to its author or to an authority whose relay signature it carries (both hold it). So however
/// many or large the votes a liar makes an authority relay, its own vote leaves first and the
/// others' cost the peer 32 bytes each unless it needs them. Loop-thread logic, no I/O.

#include <optional>
#include <set>
#include <vector>

#include "authority.hpp"
#include "veil/proto/directory_rpc.hpp"

namespace veil::directory {

enum class OutboxStep : std::uint8_t {
    own_vote = 1,  ///< post_vote with this authority's own vote
    signature,     ///< post_signature (the caller holds the signature)
    offer,         ///< offer_vote with the digest
    body,          ///< post_vote with a vote the peer asked for
};

struct OutboxItem {
    OutboxStep step = OutboxStep::own_vote;
    Digest digest{};         ///< the vote's (own_vote, offer, body)
    wire::ByteView relayed;  ///< the encoded RelayedVote (own_vote, body); valid as OutgoingVote::relayed
};

class PeerOutbox final {
public:
    PeerOutbox(const PublicKey& self, const PublicKey& peer) : self_(self), peer_(peer) {}

    /// The next request for this peer given the votes held (Authority::votes_to_relay) and
    /// whether this authority's signature still has to reach it; empty when nothing is due.
    [[nodiscard]] std::optional<OutboxItem> next(const std::vector<OutgoingVote>& held, bool signature_due);
    /// The peer's answer to `item` (a vote answered in any way is not sent again; an offer
    /// answered `wanted` is sent whole next).
    void answered(const OutboxItem& item, proto::DirectoryStatus status);

private:
    PublicKey self_, peer_;
    std::set<Digest> settled_;  ///< the peer holds it, or answered it
    std::set<Digest> wanted_;   ///< the peer asked for the whole vote
};

}  // namespace veil::directory
