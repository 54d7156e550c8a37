#pragma once
// Who signs a leaver's removal (docs/groups.md §Leaving). A notice names the state the leaver
// held (its digest, which binds the version): an admin signs only over exactly that state, so a
// late or lagging notice can never make a competing state that undoes a later change.
#include <optional>

#include "veil/crypto/group.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

/// The leave notice's body: the group ID, then the digest of the leaver's state.
struct LeaveNotice {
    crypto::GroupId group{};
    crypto::Digest state{};
};
[[nodiscard]] wire::Bytes encode_leave(const LeaveNotice& n);
/// Throws wire::DecodeError unless exactly 64 bytes.
[[nodiscard]] LeaveNotice decode_leave(wire::ByteView body);

/// What an admin does with a notice over the state it holds.
enum class LeaveStep {
    ignore,  ///< not ours to sign, or our line already drops the leaver, or the notice is stale
    sign,    ///< we are the designated signer (the lowest-ID admin other than the leaver)
    hold,    ///< we are an admin but not the designated one (sign only as a fallback, later)
};
[[nodiscard]] LeaveStep leave_step(const crypto::GroupState& held, const crypto::VeilId& me,
                                   const crypto::VeilId& leaver, const crypto::Digest& named);

}  // namespace veil::messenger
