#include "peer_lists.hpp"

#include <algorithm>

#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {
// 3 keeps each peer's revoked keys oldest first; 2 (in key order) and 1 (without them) are still read.
constexpr std::uint8_t kVersion = 3;
constexpr std::uint8_t kVersionKeyOrder = 2;
constexpr std::uint8_t kVersionWithoutRevoked = 1;
constexpr std::size_t kMaxListBytes = 8 * 1024;  // 64 devices of 80 bytes and the header
}  // namespace

namespace {

bool revives(const RevokedMarks& revoked, const crypto::DeviceList& list) {
    return std::any_of(list.entries().begin(), list.entries().end(),
                       [&](const auto& e) { return !e.revoked() && revoked.contains(e.signing_key); });
}

bool signed_by(const crypto::DeviceList& list, const crypto::VeilId& peer) {
    try {
        list.verify(peer);
        return true;
    } catch (const crypto::Error&) {
        return false;
    }
}

}  // namespace

void RevokedMarks::add(const crypto::PublicKey& key) {
    if (contains(key)) return;
    // Full: the oldest mark goes. The newest revocation is the one that may concern a device
    // still around; honest lists never forget a revoked device and hold 64 at most, so only
    // several chains (or a signer with the seed) get here.
    if (keys_.size() >= kMaxRevokedKept) keys_.erase(keys_.begin());
    keys_.push_back(key);
}

void RevokedMarks::add_from(const crypto::DeviceList& list) {
    for (const auto& e : list.entries()) {
        if (e.revoked()) add(e.signing_key);
    }
}

bool RevokedMarks::contains(const crypto::PublicKey& key) const {
    return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
}

std::optional<crypto::DeviceList> PeerLists::accept(const crypto::VeilId& peer, const crypto::DeviceList& incoming,
                                                    std::uint64_t now_ms, const Keep& keep) {
    auto it = held_.find(peer);
    std::optional<crypto::DeviceList> current;
    if (it != held_.end()) current = it->second.list;
    try {
        auto newer = crypto::DeviceList::accept_update(current, incoming, peer, now_ms);
        Held h{newer, now_ms, now_ms, {}};
        if (current) {
            // A revoked device never comes back, whatever version names it active; what the
            // refused list itself revokes still counts.
            if (revives(it->second.revoked, newer)) {
                it->second.revoked.add_from(newer);
                return current;
            }
            h.revoked = std::move(it->second.revoked);
        }
        h.revoked.add_from(newer);
        held_.insert_or_assign(peer, std::move(h));
        evict(peer, keep);
        return newer;
    } catch (const crypto::Error& e) {
        if (!current) return std::nullopt;
        // Older, a fork of the same version, or from the future, but signed by the identity: its
        // revocations hold all the same (a device restored from an old backup may have signed a
        // list that names active a device another list revoked).
        if (signed_by(incoming, peer)) it->second.revoked.add_from(incoming);
        // Not newer (or forged): the held list stands. Only the same list again confirms it: a
        // different one of that version (a thief's, a fork) says the held one may not be the newest.
        if (e.kind() == crypto::ErrorKind::stale_version && incoming.version() == current->version() &&
            incoming.encode() == current->encode()) {
            it->second.checked_ms = std::max(it->second.checked_ms, now_ms);
        }
        return current;
    }
}

void PeerLists::tried(const crypto::VeilId& peer, std::uint64_t now_ms) {
    if (auto it = held_.find(peer); it != held_.end()) it->second.tried_ms = std::max(it->second.tried_ms, now_ms);
}

const PeerLists::Held* PeerLists::find(const crypto::VeilId& peer) const {
    auto it = held_.find(peer);
    return it == held_.end() ? nullptr : &it->second;
}

PeerLists::DeviceState PeerLists::state(const crypto::VeilId& peer, const crypto::PublicKey& device) const {
    const auto* h = find(peer);
    // Marked by any list: revoked, even when the held list names it active or forgets it.
    if (h && h->revoked.contains(device)) return DeviceState::revoked;
    const auto* e = h ? h->list.find(device) : nullptr;
    if (!e) return DeviceState::unknown;
    return e->revoked() ? DeviceState::revoked : DeviceState::active;
}

bool PeerLists::stale(const crypto::VeilId& peer, std::uint64_t now_ms, std::uint64_t max_age_ms) const {
    const auto* h = find(peer);
    return !h || now_ms >= h->checked_ms + max_age_ms;
}

std::vector<crypto::VeilId> PeerLists::stalest(std::uint64_t now_ms, std::uint64_t max_age_ms, std::size_t limit,
                                               const Keep& keep) const {
    // Ordered by the last attempt, not the last answer: a list whose reads keep failing goes to
    // the back instead of taking a place every tick.
    using Aged = std::pair<std::uint64_t, crypto::VeilId>;
    std::vector<Aged> contacts;
    std::vector<Aged> strangers;
    for (const auto& [peer, h] : held_) {
        if (now_ms < h.checked_ms + max_age_ms) continue;
        (keep && keep(peer) ? contacts : strangers).emplace_back(std::max(h.checked_ms, h.tried_ms), peer);
    }
    std::sort(contacts.begin(), contacts.end());
    std::sort(strangers.begin(), strangers.end());
    // Contacts' half of the places, and whatever strangers leave of theirs.
    auto for_contacts = std::min(contacts.size(), std::max(limit / 2, limit - std::min(limit, strangers.size())));
    auto for_strangers = std::min(strangers.size(), limit - for_contacts);
    std::vector<crypto::VeilId> out;
    for (std::size_t i = 0; i < for_contacts; ++i) out.push_back(contacts[i].second);
    for (std::size_t i = 0; i < for_strangers; ++i) out.push_back(strangers[i].second);
    return out;
}

void PeerLists::evict(const crypto::VeilId& in_use, const Keep& keep) {
    // Only strangers' lists compete for the kMaxPeerLists places: a contact's list (and its
    // revoked marks) stays whatever strangers send.
    auto stranger = [&](const crypto::VeilId& p) { return !(keep && keep(p)); };
    auto strangers = static_cast<std::size_t>(
        std::count_if(held_.begin(), held_.end(), [&](const auto& h) { return stranger(h.first); }));
    // A list that revokes nothing carries no mark worth keeping: those go first, oldest first.
    auto rank = [](const Held& h) {
        bool revokes = std::any_of(h.list.entries().begin(), h.list.entries().end(),
                                   [](const auto& e) { return e.revoked(); });
        return std::pair{revokes, h.checked_ms};
    };
    for (; strangers > kMaxPeerLists; --strangers) {
        // Never the list just taken: its caller is about to use it (a stranger's 256 revoking
        // lists would otherwise make every new list its own victim).
        auto victim = held_.end();
        for (auto it = held_.begin(); it != held_.end(); ++it) {
            if (it->first == in_use || !stranger(it->first)) continue;
            if (victim == held_.end() || rank(it->second) < rank(victim->second)) victim = it;
        }
        if (victim == held_.end()) return;
        held_.erase(victim);
    }
}

wire::Bytes PeerLists::encode() const {
    wire::Writer w;
    // Kept lists are bounded by the contacts and the strangers' session cap, far below u16.
    auto n = std::min<std::size_t>(held_.size(), UINT16_MAX);
    w.u8(kVersion).u16(static_cast<std::uint16_t>(n));
    for (auto it = held_.begin(); n-- > 0; ++it) {
        w.u64(it->second.checked_ms).var(it->second.list.encode());
        // Every key a held version revoked, so a restart cannot forget one the list no longer names.
        w.u16(static_cast<std::uint16_t>(it->second.revoked.size()));
        for (const auto& k : it->second.revoked.oldest_first()) w.raw(k);
    }
    return w.take();
}

PeerLists PeerLists::decode(wire::ByteView bytes, std::size_t* skipped) {
    wire::Reader r(bytes);
    auto version = r.u8();
    if (version != kVersion && version != kVersionKeyOrder && version != kVersionWithoutRevoked) throw wire::DecodeError("peer device lists: unknown version");
    auto n = r.u16();
    PeerLists out;
    for (std::uint16_t i = 0; i < n; ++i) {
        std::uint64_t checked = 0;
        wire::ByteView record;
        RevokedMarks revoked;
        try {
            checked = r.u64();
            record = r.var(kMaxListBytes);
            if (version != kVersionWithoutRevoked) {
                auto keys = r.u16();
                if (keys > kMaxRevokedKept) throw wire::DecodeError("peer device lists: too many revoked keys");
                for (std::uint16_t k = 0; k < keys; ++k) revoked.add(wire::to_array<32>(r.raw(32)));
            }
        } catch (const wire::DecodeError&) {
            // The framing is damaged here: the records before it load, this one and the rest
            // (which cannot be found again) are counted skipped.
            if (skipped) *skipped += n - i;
            return out;
        }
        // One damaged record costs only its own list (read again from the network), not the account.
        try {
            auto list = crypto::DeviceList::decode(record);
            auto peer = crypto::veil_id_of(list.identity_key());
            list.verify(peer);
            // The stored marks, and those the list names (all there is in a version 1 record).
            Held h{std::move(list), checked, checked, std::move(revoked)};
            h.revoked.add_from(h.list);
            if (out.held_.emplace(peer, std::move(h)).second) continue;
        } catch (const crypto::Error&) {
        } catch (const wire::DecodeError&) {
        }
        if (skipped) ++*skipped;
    }
    // Bytes after the last record: damage past what was read, which loaded intact.
    if (!r.done() && skipped) ++*skipped;
    return out;
}

}  // namespace veil::messenger
