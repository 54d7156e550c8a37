#pragma once
// Who signs a leaver's removal (docs/groups.md §Leaving). A notice names the state the leaver
// held (its digest, which binds the version): an admin signs only over exactly that state, so a
// late or lagging notice can never make a competing state that undoes a later change.
#include <cstdint>
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

/// How long each admin in line waits for the ones before it to sign a leaver's removal: the
/// designated admin signs at once, the next-lowest ID after this, the next after twice this...
inline constexpr std::uint64_t kLeaveFallbackMs = 3600ull * 1000;

/// What an admin does with a notice over the state it holds.
enum class LeaveStep {
    ignore = 1,  ///< not ours to sign, or our line already drops the leaver, or the notice is stale
    sign,        ///< ours to sign: the designated signer (the lowest-ID admin other than the
                 ///< leaver), or the next in line once the ones before it let their turn pass
    hold,        ///< an admin whose turn has not come (kLeaveFallbackMs per admin before us)
    wait,        ///< names a state we do not hold and have not held: we are behind (or it is a
                 ///< branch we do not keep); look again when our state moves
};
/// `named_in_past`: `named` is a state of our line before the one held (the notice is stale).
/// `waited_ms`: how long we have held the notice.
[[nodiscard]] LeaveStep leave_step(const crypto::GroupState& held, const crypto::VeilId& me,
                                   const crypto::VeilId& leaver, const crypto::Digest& named,
                                   bool named_in_past = false, std::uint64_t waited_ms = 0);

}  // namespace veil::messenger
