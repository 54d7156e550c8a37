#include "peer_lists.hpp"

#include <algorithm>

#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxListBytes = 8 * 1024;  // 64 devices of 80 bytes and the header
}  // namespace

std::optional<crypto::DeviceList> PeerLists::accept(const crypto::VeilId& peer, const crypto::DeviceList& incoming,
                                                    std::uint64_t now_ms) {
    auto it = held_.find(peer);
    std::optional<crypto::DeviceList> current;
    if (it != held_.end()) current = it->second.list;
    try {
        auto newer = crypto::DeviceList::accept_update(current, incoming, peer);
        held_.insert_or_assign(peer, Held{newer, now_ms});
        evict(peer);
        return newer;
    } catch (const crypto::Error& e) {
        if (!current) return std::nullopt;
        // Not newer (or forged): the held list stands. An answer of the same version confirms it.
        if (e.kind() == crypto::ErrorKind::stale_version && incoming.version() == current->version()) {
            it->second.checked_ms = std::max(it->second.checked_ms, now_ms);
        }
        return current;
    }
}

const PeerLists::Held* PeerLists::find(const crypto::VeilId& peer) const {
    auto it = held_.find(peer);
    return it == held_.end() ? nullptr : &it->second;
}

PeerLists::DeviceState PeerLists::state(const crypto::VeilId& peer, const crypto::PublicKey& device) const {
    const auto* h = find(peer);
    const auto* e = h ? h->list.find(device) : nullptr;
    if (!e) return DeviceState::unknown;
    return e->revoked() ? DeviceState::revoked : DeviceState::active;
}

bool PeerLists::stale(const crypto::VeilId& peer, std::uint64_t now_ms, std::uint64_t max_age_ms) const {
    const auto* h = find(peer);
    return !h || now_ms >= h->checked_ms + max_age_ms;
}

void PeerLists::evict(const crypto::VeilId& in_use) {
    while (held_.size() > kMaxPeerLists) {
        // A list that revokes nothing carries no mark worth keeping: those go first, oldest first.
        auto rank = [](const Held& h) {
            bool revokes = std::any_of(h.list.entries().begin(), h.list.entries().end(),
                                       [](const auto& e) { return e.revoked(); });
            return std::pair{revokes, h.checked_ms};
        };
        // Never the list just taken: its caller is about to use it (a stranger's 256 revoking
        // lists would otherwise make every new list its own victim).
        auto victim = std::min_element(held_.begin(), held_.end(), [&](const auto& a, const auto& b) {
            if (a.first == in_use) return false;
            if (b.first == in_use) return true;
            return rank(a.second) < rank(b.second);
        });
        held_.erase(victim);
    }
}

wire::Bytes PeerLists::encode() const {
    wire::Writer w;
    w.u8(kVersion).u16(static_cast<std::uint16_t>(held_.size()));
    for (const auto& [peer, h] : held_) w.u64(h.checked_ms).var(h.list.encode());
    return w.take();
}

PeerLists PeerLists::decode(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kVersion) throw wire::DecodeError("peer device lists: unknown version");
    auto n = r.u16();
    if (n > kMaxPeerLists) throw wire::DecodeError("peer device lists: too many");
    PeerLists out;
    for (std::uint16_t i = 0; i < n; ++i) {
        auto checked = r.u64();
        auto list = crypto::DeviceList::decode(r.var(kMaxListBytes));
        auto peer = crypto::veil_id_of(list.identity_key());
        list.verify(peer);
        if (!out.held_.emplace(peer, Held{std::move(list), checked}).second) {
            throw wire::DecodeError("peer device lists: a peer twice");
        }
    }
    r.expect_done();
    return out;
}

}  // namespace veil::messenger
