#pragma once
/// When a sender's device list is read again before its message counts, and at most one read per
/// peer at a time (issue 14 review). In memory only: a restart costs at most one more read per
/// peer. Bounded: kMaxCheckedPeers peers, the least recently read forgotten first. Loop thread.
///  - A device the held list does not name: read, then backed off per peer (kFirstBackoffMs,
///    doubling up to kMaxBackoffMs) while reads keep not naming it, so a stranger writing from a
///    device missing from its list (or with no list) costs one read per backoff, not one a round.
///    A read that failed (no answer) is not "read, not named": it starts no backoff, the next
///    round reads again, and only the message of the round whose read failed is let in. The
///    backoff ends when a read names a device of the peer.
///  - A device active in the held list that has not written to us before: read, at most once per
///    kNewDeviceGapMs per peer, so a device revoked since the last read is caught on its first
///    message. A device that has written before is caught by the schedule only (the held list
///    checked `messenger.peer_list_refresh_s` ago or more is read again).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "peer_lists.hpp"

namespace veil::messenger {

inline constexpr std::size_t kMaxCheckedPeers = 1024;
inline constexpr std::uint64_t kFirstBackoffMs = 30'000;
inline constexpr std::uint64_t kMaxBackoffMs = 3'600'000;
inline constexpr std::uint64_t kNewDeviceGapMs = 60'000;
/// A read in flight this long lost its answer (a read is bounded near 50 s): the next read of
/// the peer gives it up instead of waiting behind it for ever (issue 17).
inline constexpr std::uint64_t kLostReadMs = 120'000;

class ListChecks final {
public:
    /// Called once with whether the swarm answered (with a verified list, or with none at all).
    using Finished = std::function<void(bool ok)>;

    /// Whether `peer`'s list must be read before a message from `device` (in `state` by the held
    /// list, which is `stale` or not) counts.
    [[nodiscard]] bool wants_read(const crypto::VeilId& peer, const crypto::PublicKey& device,
                                  PeerLists::DeviceState state, bool stale, std::uint64_t now_ms) const;
    /// Reads `peer`'s list with `start` unless a read of it is in flight; `done` runs when the
    /// read (this one or the one in flight) finishes. A read in flight for kLostReadMs is given
    /// up: its waiters get `false` (no answer), a new read starts, and the lost one's late
    /// answer changes nothing.
    void read(const crypto::VeilId& peer, std::uint64_t now_ms, const std::function<void(Finished)>& start,
              Finished done);
    /// Whether a message from a device that peer's held list does not name counts, after this
    /// round's checks: `read_now` when peer's list was read this round, `failed` when that read
    /// got no answer. Only then is it let in (its certificate is the identity's: a device added
    /// since), without a backoff; a read that answered and did not name it backs the next one off.
    [[nodiscard]] bool admit_unnamed(const crypto::VeilId& peer, bool read_now, bool failed, std::uint64_t now_ms);
    /// A message from `device` of `peer` counted: it is not new any more. `became_named`: the
    /// held list did not name it before this round's read, which ends the peer's backoff.
    void seen(const crypto::VeilId& peer, const crypto::PublicKey& device, bool became_named = false);

private:
    struct Peer {
        std::uint64_t read_ms = 0;  // when the last read started
        std::uint64_t backoff_until_ms = 0;
        std::uint64_t backoff_ms = 0;
        std::set<crypto::PublicKey> seen;
        std::vector<Finished> waiting;  // non-empty while a read is in flight
        std::uint64_t read_number = 0;  // of the read in flight: a lost one's late answer is ignored
    };
    Peer& at(const crypto::VeilId& peer);
    std::map<crypto::VeilId, Peer> peers_;
    std::uint64_t reads_started_ = 0;  // numbers every read, across peers (an evicted peer's too)
};

}  // namespace veil::messenger
