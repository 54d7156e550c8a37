#pragma once
/// When a sender's device list is read again before its message counts, and at most one read per
/// peer at a time (issue 14 review). In memory only: a restart costs at most one more read per
/// peer. Bounded: kMaxCheckedPeers peers, the least recently read forgotten first. Loop thread.
///  - A device the held list does not name: read, then backed off per peer (kFirstBackoffMs,
///    doubling up to kMaxBackoffMs) while reads keep not naming it, so a stranger writing from a
///    device missing from its list (or with no list) costs one read per backoff, not one a round.
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

class ListChecks final {
public:
    /// Called once with whether the read gave a verified list.
    using Finished = std::function<void(bool ok)>;

    /// Whether `peer`'s list must be read before a message from `device` (in `state` by the held
    /// list, which is `stale` or not) counts.
    [[nodiscard]] bool wants_read(const crypto::VeilId& peer, const crypto::PublicKey& device,
                                  PeerLists::DeviceState state, bool stale, std::uint64_t now_ms) const;
    /// Reads `peer`'s list with `start` unless a read of it is in flight; `done` runs when the
    /// read (this one or the one in flight) finishes.
    void read(const crypto::VeilId& peer, std::uint64_t now_ms, const std::function<void(Finished)>& start,
              Finished done);
    /// A device stayed unnamed after a read of peer's list (`failed`: the read gave no list): the
    /// next read for an unnamed device waits for the backoff.
    void unlisted(const crypto::VeilId& peer, bool failed, std::uint64_t now_ms);
    /// True when the last read of peer's list gave no list (an unnamed device is let in then: its
    /// certificate is the identity's).
    [[nodiscard]] bool last_read_failed(const crypto::VeilId& peer) const;
    /// A message from `device` of `peer` counted: it is not new any more.
    void seen(const crypto::VeilId& peer, const crypto::PublicKey& device);

private:
    struct Peer {
        std::uint64_t read_ms = 0;  // when the last read started
        std::uint64_t backoff_until_ms = 0;
        std::uint64_t backoff_ms = 0;
        bool failed = false;
        std::set<crypto::PublicKey> seen;
        std::vector<Finished> waiting;  // non-empty while a read is in flight
    };
    Peer& at(const crypto::VeilId& peer);
    std::map<crypto::VeilId, Peer> peers_;
};

}  // namespace veil::messenger
