#include "group_leave.hpp"

#include <algorithm>

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
                     const crypto::Digest& named) {
    if (!held.is_member(leaver) || !held.is_admin(me) || me == leaver) return LeaveStep::ignore;
    // Only over exactly the state the leaver held: a stale notice (our line moved on, perhaps
    // removing and re-adding the leaver) or one from a branch we do not keep signs nothing.
    if (held.digest() != named) return LeaveStep::ignore;
    std::optional<crypto::VeilId> designated;
    for (const auto& m : held.members()) {
        if (m.role != crypto::GroupRole::admin || m.id == leaver) continue;
        if (!designated || m.id < *designated) designated = m.id;
    }
    return designated == me ? LeaveStep::sign : LeaveStep::hold;
}

}  // namespace veil::messenger
