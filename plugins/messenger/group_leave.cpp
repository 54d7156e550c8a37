#include "group_leave.hpp"

#include <algorithm>
#include <vector>

#include "veil/wire/codec.hpp"

namespace veil::messenger {

wire::Bytes encode_leave(const LeaveNotice& n) {
    wire::Bytes out(n.group.begin(), n.group.end());
    out.insert(out.end(), n.state.begin(), n.state.end());
    return out;
}

LeaveNotice decode_leave(wire::ByteView body) {
    LeaveNotice n;
    if (body.size() != n.group.size() + n.state.size()) throw wire::DecodeError("leave notice: bad length");
    std::copy_n(body.begin(), n.group.size(), n.group.begin());
    std::copy_n(body.begin() + static_cast<std::ptrdiff_t>(n.group.size()), n.state.size(), n.state.begin());
    return n;
}

LeaveStep leave_step(const crypto::GroupState& held, const crypto::VeilId& me, const crypto::VeilId& leaver,
                     const crypto::Digest& named, bool named_in_past, std::uint64_t waited_ms) {
    // Only over exactly the state the leaver held: a stale notice (our line moved on, perhaps
    // removing and re-adding the leaver) signs nothing; one over a state we have not reached
    // waits for us to catch up.
    if (held.digest() != named) return named_in_past ? LeaveStep::ignore : LeaveStep::wait;
    if (!held.is_member(leaver) || !held.is_admin(me) || me == leaver) return LeaveStep::ignore;
    std::vector<crypto::VeilId> admins;  // the line of signers, lowest ID first
    for (const auto& m : held.members()) {
        if (m.role == crypto::GroupRole::admin && m.id != leaver) admins.push_back(m.id);
    }
    std::sort(admins.begin(), admins.end());
    const auto place = static_cast<std::uint64_t>(std::find(admins.begin(), admins.end(), me) - admins.begin());
    // The designated admin at once; each next one only after the ones before it let their turn pass.
    return waited_ms >= place * kLeaveFallbackMs ? LeaveStep::sign : LeaveStep::hold;
}

}  // namespace veil::messenger
