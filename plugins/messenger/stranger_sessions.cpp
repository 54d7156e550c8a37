#include "stranger_sessions.hpp"

#include <algorithm>

namespace veil::messenger {
namespace {
constexpr std::uint8_t kVersion = 1;
// Each stranger listed holds a session, so a saved list is at most the session cap long; this
// only bounds what a damaged entry makes us read.
constexpr std::uint32_t kMaxListed = 10 * kMaxStrangerSessions;
}  // namespace

void StrangerSessions::opened(const crypto::VeilId& peer, const IsAccepted& is_accepted,
                              crypto::SessionManager& sessions) {
    auto accepted = [&](const crypto::VeilId& p) { return is_accepted && is_accepted(p); };
    if (std::find(order_.begin(), order_.end(), peer) == order_.end()) order_.push_back(peer);
    // Past its share, a stranger loses its sessions (and leaves the list just below).
    if (!accepted(peer) && sessions.cost(peer).skipped_keys > kMaxSkippedKeysPerStranger) sessions.forget_peer(peer);
    // Accepted (now or since), or no session left (e.g. its devices revoked): not counted.
    std::erase_if(order_, [&](const crypto::VeilId& p) { return accepted(p) || sessions.cost(p).sessions == 0; });
    crypto::SessionManager::PeerCost total;
    for (const auto& p : order_) {
        auto c = sessions.cost(p);
        total.sessions += c.sessions;
        total.skipped_keys += c.skipped_keys;
    }
    while (!order_.empty() && (total.sessions > kMaxStrangerSessions || total.skipped_keys > kMaxStrangerSkippedKeys)) {
        auto c = sessions.cost(order_.front());
        total.sessions -= c.sessions;
        total.skipped_keys -= c.skipped_keys;
        sessions.forget_peer(order_.front());
        order_.pop_front();
    }
}

wire::Bytes StrangerSessions::encode() const {
    wire::Writer w;
    w.u8(kVersion).u32(static_cast<std::uint32_t>(order_.size()));
    for (const auto& p : order_) w.raw(p.x25519);
    return w.take();
}

StrangerSessions StrangerSessions::decode(wire::ByteView bytes) {
    wire::Reader r(bytes);
    if (r.u8() != kVersion) throw wire::DecodeError("strangers: unknown version");
    auto n = r.u32();
    if (n > kMaxListed) throw wire::DecodeError("strangers: too many");
    StrangerSessions out;
    for (std::uint32_t i = 0; i < n; ++i) {
        crypto::VeilId id;
        auto b = r.raw(id.x25519.size());
        std::copy(b.begin(), b.end(), id.x25519.begin());
        out.order_.push_back(id);
    }
    r.expect_done();
    return out;
}

}  // namespace veil::messenger
