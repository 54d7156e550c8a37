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

/// Device keys a person's signed lists named revoked, oldest first, at most kMaxRevokedKept:
/// past that the oldest mark goes, so the newest revocation always holds (docs/messenger.md).
class RevokedMarks final {
public:
    /// Remembers key (no-op when it is already marked), dropping the oldest mark when full.
    void add(const crypto::PublicKey& key);
    /// Every device `list` marks revoked.
    void add_from(const crypto::DeviceList& list);
    [[nodiscard]] bool contains(const crypto::PublicKey& key) const;
    [[nodiscard]] std::size_t size() const { return keys_.size(); }
    [[nodiscard]] const std::vector<crypto::PublicKey>& oldest_first() const { return keys_; }

private:
    std::vector<crypto::PublicKey> keys_;
};

class PeerLists final {
public:
    /// What the held list and the marks say of one device (a mark wins over the list).
    enum class DeviceState { unknown = 1, active, revoked };
    /// Names the peers whose lists are never evicted (contacts, peers with sessions).
    using Keep = std::function<bool(const crypto::VeilId&)>;
    struct Held final {
        crypto::DeviceList list;
        std::uint64_t checked_ms = 0;  ///< when a swarm last answered with this list (or an older one)
        std::uint64_t tried_ms = 0;    ///< when a read of it was last attempted (answered or not)
        /// Every device key any list of this peer that verified named revoked, whatever its
        /// version (older, a fork of the same version, from the future), saved with the list: a
        /// later list naming one active is refused, and one that forgets it does not make it
        /// unknown (device keys are never reused, so only a fork or a rollback signed again, e.g.
        /// a device restored from an old backup, does that).
        RevokedMarks revoked;
    };

    /// Takes `incoming`, read from `peer`'s swarm at now_ms, if it verifies against peer and is
    /// newer than the list held; the same list again only marks the held list checked. Returns
    /// the list to use from now on (the held one when incoming is older: a rollback is ignored),
    /// or nullopt when incoming does not verify and nothing is held. A newer list that names
    /// active a device marked revoked is refused too. Whatever its version, a list that verifies
    /// adds its revoked devices to the marks of the held one. Evicts only lists `keep` does not
    /// name (without it every peer is a stranger).
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

    /// Storage form: `3 ‖ u16 count ‖ count × (u64 checked_ms ‖ var(DeviceList) ‖ u16 n ‖ n ×
    /// revoked key, oldest first)`: the revoked marks survive a restart even once no held list
    /// names them. Version 2 (the keys in key order) and 1 (without them) are still read.
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
