#pragma once
/// Peers' device lists as this device last read them, kept so that a revocation holds: a list
/// is replaced only by a valid one of a higher version (crypto::DeviceList::accept_update: a
/// swarm member serving an older list cannot bring a revoked device back), and a device the
/// held list marks revoked stays refused even when the list cannot be read again. Saved with
/// the account (Account::save_ops, `state/peer_lists`). Bounded: at most kMaxPeerLists lists of
/// strangers (peers the caller's Keep does not name); past that the least recently checked
/// stranger's list without a revoked device goes first. A kept list (a contact's, or a peer's we
/// hold sessions with) is never evicted, so strangers cannot push out the list that carries a
/// contact's revocation (issue 14). Loop thread.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "veil/crypto/device.hpp"
#include "veil/wire/codec.hpp"

namespace veil::messenger {

/// Strangers whose device lists are held at most (kept peers' lists come on top).
inline constexpr std::size_t kMaxPeerLists = 256;
/// Held lists the resident client reads again per refresh tick at most (four ticks a period,
/// jittered): a daemon holding many lists, all stale at start, spreads the reads instead of
/// sending them all at once each period.
inline constexpr std::size_t kMaxRefreshesPerTick = 32;
/// Revoked device keys remembered per peer across list versions at most (a list holds 64).
inline constexpr std::size_t kMaxRevokedKept = 256;

class PeerLists final {
public:
    /// What the held list says of one device.
    enum class DeviceState { unknown = 1, active, revoked };
    /// Names the peers whose lists are never evicted (contacts, peers with sessions).
    using Keep = std::function<bool(const crypto::VeilId&)>;
    struct Held final {
        crypto::DeviceList list;
        std::uint64_t checked_ms = 0;  ///< when a swarm last answered with this list (or an older one)
        std::uint64_t tried_ms = 0;    ///< when a read of it was last attempted (answered or not)
        /// Every device key a held version named revoked (at most kMaxRevokedKept), saved with
        /// the list: a later list naming one active is refused (device keys are never reused, so
        /// only a rollback signed again, e.g. a restore built on a stale list, does that).
        std::set<crypto::PublicKey> revoked;
    };

    /// Takes `incoming`, read from `peer`'s swarm at now_ms, if it verifies against peer and is
    /// newer than the list held; the same version only marks the held list checked. Returns the
    /// list to use from now on (the held one when incoming is older: a rollback is ignored), or
    /// nullopt when incoming does not verify and nothing is held. A newer list that names active
    /// a device any held version named revoked is refused too. Evicts only lists `keep` does
    /// not name (without it every peer is a stranger).
    std::optional<crypto::DeviceList> accept(const crypto::VeilId& peer, const crypto::DeviceList& incoming,
                                             std::uint64_t now_ms, const Keep& keep = {});
    [[nodiscard]] const Held* find(const crypto::VeilId& peer) const;
    [[nodiscard]] DeviceState state(const crypto::VeilId& peer, const crypto::PublicKey& device) const;
    /// True when nothing is held for peer or it was last checked max_age_ms ago or earlier.
    [[nodiscard]] bool stale(const crypto::VeilId& peer, std::uint64_t now_ms, std::uint64_t max_age_ms) const;
    /// A read of peer's list was attempted at now_ms (answered or not): orders stalest().
    void tried(const crypto::VeilId& peer, std::uint64_t now_ms);
    /// At most `limit` peers whose held list is stale, the least recently tried first; the peers
    /// `keep` names (contacts) get half of the places (more when there are fewer strangers), so
    /// strangers whose lists are gone cannot keep contacts' lists from being read.
    [[nodiscard]] std::vector<crypto::VeilId> stalest(std::uint64_t now_ms, std::uint64_t max_age_ms,
                                                      std::size_t limit, const Keep& keep = {}) const;
    /// Every peer whose list is held.
    [[nodiscard]] const std::map<crypto::VeilId, Held>& all() const { return held_; }

    /// Storage form: `2 ‖ u16 count ‖ count × (u64 checked_ms ‖ var(DeviceList) ‖ u16 n ‖ n ×
    /// revoked key)`: the revoked marks survive a restart even once no held list names them.
    /// Version 1 (without the keys) is still read.
    [[nodiscard]] wire::Bytes encode() const;
    /// A record whose list does not decode or verify is skipped and counted in `skipped` (the
    /// others load; the skipped peer's list is read again from the network). Where the framing
    /// itself is damaged, the records before the damage load and the rest count as skipped.
    /// Throws wire::DecodeError only for an unknown version or a missing header.
    static PeerLists decode(wire::ByteView bytes, std::size_t* skipped = nullptr);

private:
    // Drops strangers' lists past kMaxPeerLists, never `in_use` nor one `keep` names.
    void evict(const crypto::VeilId& in_use, const Keep& keep);
    std::map<crypto::VeilId, Held> held_;
};

}  // namespace veil::messenger
