#pragma once
/// A global bound on the sessions held for senders this person has not accepted (message
/// requests). The crypto caps bound one identity (16 devices, 5 sessions each, 2,000 skipped keys
/// a session), but identities cost nothing to make: without this, strangers could grow the
/// session state without end. Past kMaxStrangerSessions sessions or kMaxStrangerSkippedKeys
/// skipped keys held for strangers, the stranger whose first session is oldest loses all its
/// sessions (its next message opens only if it is a pre-key message); one stranger holding more
/// than kMaxSkippedKeysPerStranger skipped keys loses all its sessions at once, so no identity
/// can take the whole budget (16 devices could otherwise fill it in ~20 messages). An accepted
/// contact's sessions are never counted or dropped. Saved with the account (`state/strangers`). Loop
/// thread.

#include <deque>
#include <functional>

#include "veil/crypto/session_manager.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

inline constexpr std::size_t kMaxStrangerSessions = 200;
inline constexpr std::size_t kMaxStrangerSkippedKeys = 20'000;
/// One stranger's share of kMaxStrangerSkippedKeys (one session's worth: 2,000).
inline constexpr std::size_t kMaxSkippedKeysPerStranger = kMaxStrangerSkippedKeys / 10;

class StrangerSessions final {
public:
    using IsAccepted = std::function<bool(const crypto::VeilId&)>;

    /// After a message from `peer` was decrypted: an accepted peer leaves the list (and so does
    /// any other accepted since); a stranger joins it; then the oldest strangers' sessions are
    /// dropped from `sessions` until the totals fit the caps.
    void opened(const crypto::VeilId& peer, const IsAccepted& is_accepted, crypto::SessionManager& sessions);
    /// Strangers holding sessions, oldest first.
    [[nodiscard]] const std::deque<crypto::VeilId>& strangers() const { return order_; }

    /// Storage form: `1 ‖ u32 count ‖ count × X25519 key (32)`.
    [[nodiscard]] wire::Bytes encode() const;
    /// Throws wire::DecodeError.
    static StrangerSessions decode(wire::ByteView bytes);

private:
    std::deque<crypto::VeilId> order_;
};

}  // namespace veil::messenger
