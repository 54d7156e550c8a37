#include "vote_outbox.hpp"

#include <algorithm>

namespace veil::directory {

std::optional<OutboxItem> PeerOutbox::next(const std::vector<OutgoingVote>& held, bool signature_due) {
    // Forget the answers about votes no longer held (older periods).
    auto gone = [&held](const Digest& d) {
        return std::none_of(held.begin(), held.end(), [&d](const OutgoingVote& v) { return v.digest == d; });
    };
    std::erase_if(settled_, gone);
    std::erase_if(wanted_, gone);
    // Its own votes first: nothing a liar makes it relay may delay them past their round.
    for (const auto& v : held)
        if (v.author == self_ && !settled_.contains(v.digest)) return OutboxItem{OutboxStep::own_vote, v.digest, v.relayed};
    if (signature_due) return OutboxItem{OutboxStep::signature, {}, {}};
    // Its author and its relay signers hold it: never sent back to them.
    auto holds = [this](const OutgoingVote& v) { return std::find(v.holders.begin(), v.holders.end(), peer_) != v.holders.end(); };
    // Then the others' by digest (32 bytes each), and only afterwards the bodies asked for.
    for (const auto& v : held)
        if (v.author != self_ && !holds(v) && !settled_.contains(v.digest) && !wanted_.contains(v.digest))
            return OutboxItem{OutboxStep::offer, v.digest, {}};
    for (const auto& v : held)
        if (v.author != self_ && !holds(v) && !settled_.contains(v.digest) && wanted_.contains(v.digest))
            return OutboxItem{OutboxStep::body, v.digest, v.relayed};
    return std::nullopt;
}

void PeerOutbox::answered(const OutboxItem& item, proto::DirectoryStatus status) {
    if (item.step == OutboxStep::signature) return;
    if (item.step == OutboxStep::offer && status == proto::DirectoryStatus::wanted) {
        wanted_.insert(item.digest);
        return;
    }
    wanted_.erase(item.digest);
    settled_.insert(item.digest);
}

}  // namespace veil::directory
