#include "vote_outbox.hpp"

#include <algorithm>

namespace veil::directory {

std::uint64_t peer_timeout_ms(std::size_t bytes) {
    constexpr std::uint64_t kBaseMs = 5000;
    return kBaseMs + bytes / kFloorBytesPerMs;
}

void PeerOutbox::forget_gone(const std::vector<OutgoingVote>& held) {
    // Forget the answers about votes no longer held (older periods).
    auto gone = [&held](const Digest& d) {
        return std::none_of(held.begin(), held.end(), [&d](const OutgoingVote& v) { return v.digest == d; });
    };
    std::erase_if(settled_, gone);
    std::erase_if(wanted_, gone);
    std::erase_if(in_flight_, gone);
}

bool PeerOutbox::due_body(const OutgoingVote& v) const {
    return v.author != self_ && wanted_.contains(v.digest) && !settled_.contains(v.digest) && !in_flight_.contains(v.digest);
}

OutboxItem PeerOutbox::send(OutboxStep step, const OutgoingVote& v) {
    in_flight_.insert(v.digest);
    return OutboxItem{step, v.digest, step == OutboxStep::offer ? wire::ByteView{} : v.relayed};
}

std::optional<OutboxItem> PeerOutbox::next(const std::vector<OutgoingVote>& held, bool signature_due, const OutboxClock& now) {
    forget_gone(held);
    // Its own votes first: nothing a liar makes it relay may delay them past their round.
    for (const auto& v : held)
        if (v.author == self_ && !settled_.contains(v.digest) && !in_flight_.contains(v.digest)) return send(OutboxStep::own_vote, v);
    if (signature_due) return OutboxItem{OutboxStep::signature, {}, {}};
    // Its author and its relay signers hold it: never sent back to them.
    auto holds = [this](const OutgoingVote& v) { return std::find(v.holders.begin(), v.holders.end(), peer_) != v.holders.end(); };
    // Then the others' by digest (32 bytes each), and only afterwards the bodies asked for.
    for (const auto& v : held)
        if (v.author != self_ && !holds(v) && !settled_.contains(v.digest) && !wanted_.contains(v.digest) && !in_flight_.contains(v.digest))
            return send(OutboxStep::offer, v);
    // Only this period's bodies: a next period's (up to ~3.2 MB from a liar) would hold up this
    // period's relays behind it; they take the bulk lane.
    for (const auto& v : held)
        if (v.period <= now.period && !holds(v) && due_body(v)) return send(OutboxStep::body, v);
    return std::nullopt;
}

std::optional<OutboxItem> PeerOutbox::next_bulk(const std::vector<OutgoingVote>& held, const OutboxClock& now) {
    forget_gone(held);
    // Before the middle the current period's votes are travelling, on links a next period's
    // bodies would share; after it nothing of this period is in flight.
    if (!now.past_middle) return std::nullopt;
    for (const auto& v : held)
        if (v.period > now.period && due_body(v)) return send(OutboxStep::body, v);
    return std::nullopt;
}

void PeerOutbox::answered(const OutboxItem& item, proto::DirectoryStatus status) {
    if (item.step == OutboxStep::signature) return;
    in_flight_.erase(item.digest);
    if (item.step == OutboxStep::offer && status == proto::DirectoryStatus::wanted) {
        wanted_.insert(item.digest);
        return;
    }
    wanted_.erase(item.digest);
    settled_.insert(item.digest);
}

}  // namespace veil::directory
