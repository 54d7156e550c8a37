#pragma once
/// What one authority sends one other authority next about votes (docs/directory.md, "Vote
/// delivery"), on two lanes (two connections), so that nothing large waits in front of what must
/// arrive within a round:
///   votes lane  its own votes, whole; then its signature on the consensus; then the others'
///               votes by digest (offer_vote); then, whole, the votes of the current period the
///               peer answered it lacks;
///   bulk lane   the next period's votes the peer lacks, whole, only once the current period's
///               middle passed (its votes are counted then: nothing of it is in flight any more).
/// Never a vote to its author or to an authority whose relay signature it carries (both hold it),
/// never one vote on both lanes at once. So however many or large the votes a liar makes an
/// authority relay, its own vote and the current period's relays are not queued behind them.
/// Loop-thread logic, no I/O.

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

/// Where the current period stands, for the bulk lane.
struct OutboxClock {
    std::uint64_t period = 0;  ///< the current period
    bool past_middle = false;  ///< its consensus is formed: its votes no longer travel
};

/// How long a peer may take to answer a request of `bytes` (either way): 5 s plus the transfer at
/// 2 Mbit/s, so a large vote on a slow link is not abandoned and sent again and again.
[[nodiscard]] std::uint64_t peer_timeout_ms(std::size_t bytes);

class PeerOutbox final {
public:
    PeerOutbox(const PublicKey& self, const PublicKey& peer) : self_(self), peer_(peer) {}

    /// The next request of the votes lane given the votes held (Authority::votes_to_relay) and
    /// whether this authority's signature still has to reach the peer; empty when nothing is due.
    [[nodiscard]] std::optional<OutboxItem> next(const std::vector<OutgoingVote>& held, bool signature_due,
                                                 const OutboxClock& now);
    /// The next body of the bulk lane (a next-period vote the peer asked for), or empty.
    [[nodiscard]] std::optional<OutboxItem> next_bulk(const std::vector<OutgoingVote>& held, const OutboxClock& now);
    /// The peer's answer to `item` (a vote answered in any way is not sent again; an offer
    /// answered `wanted` is sent whole next).
    void answered(const OutboxItem& item, proto::DirectoryStatus status);
    /// `item` got no answer (timeout, connection lost): it may be sent again.
    void failed(const OutboxItem& item) { in_flight_.erase(item.digest); }

private:
    void forget_gone(const std::vector<OutgoingVote>& held);
    [[nodiscard]] bool due_body(const OutgoingVote& v) const;
    OutboxItem send(OutboxStep step, const OutgoingVote& v);

    PublicKey self_, peer_;
    std::set<Digest> settled_;    ///< the peer holds it, or answered it
    std::set<Digest> wanted_;     ///< the peer asked for the whole vote
    std::set<Digest> in_flight_;  ///< sent on one lane, not answered yet
};

}  // namespace veil::directory
