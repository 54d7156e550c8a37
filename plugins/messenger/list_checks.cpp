#include "list_checks.hpp"

#include <algorithm>
#include <utility>

namespace veil::messenger {
namespace {
// Devices remembered per peer: twice the devices a contact keeps sessions with.
constexpr std::size_t kMaxSeenDevices = 32;
}  // namespace

bool ListChecks::wants_read(const crypto::VeilId& peer, const crypto::PublicKey& device, PeerLists::DeviceState state,
                            bool stale, std::uint64_t now_ms) const {
    auto it = peers_.find(peer);
    const Peer* p = it == peers_.end() ? nullptr : &it->second;
    switch (state) {
        case PeerLists::DeviceState::revoked:
            return false;  // revocation is final: no read can change it
        case PeerLists::DeviceState::unknown:
            return !p || now_ms >= p->backoff_until_ms;
        case PeerLists::DeviceState::active:
            if (stale) return true;
            if (p && p->seen.contains(device)) return false;
            return !p || now_ms >= p->read_ms + kNewDeviceGapMs;
    }
    return true;
}

void ListChecks::read(const crypto::VeilId& peer, std::uint64_t now_ms, const std::function<void(Finished)>& start,
                      Finished done) {
    auto& p = at(peer);
    std::vector<Finished> lost;
    if (!p.waiting.empty() && now_ms >= p.read_ms + kLostReadMs) lost = std::exchange(p.waiting, {});
    p.waiting.push_back(std::move(done));
    if (p.waiting.size() > 1) return;  // one in flight: this caller waits for its answer
    p.read_ms = now_ms;
    const auto number = p.read_number = ++reads_started_;
    start([this, peer, number](bool ok) {
        auto it = peers_.find(peer);
        if (it == peers_.end() || it->second.read_number != number) return;  // given up as lost
        auto waiting = std::move(it->second.waiting);
        it->second.waiting.clear();
        for (auto& w : waiting) w(ok);
    });
    // Last: a waiter may start another round's reads.
    for (auto& w : lost) w(false);
}

bool ListChecks::admit_unnamed(const crypto::VeilId& peer, bool read_now, bool failed, std::uint64_t now_ms) {
    // Not read this round: backing off after a read that answered without naming it.
    if (!read_now) return false;
    // No answer says nothing about the device: no backoff (the next round reads again), and only
    // this round's message rides on the identity's certificate. An answer that does not name it
    // backs off (once for several messages of one round).
    auto& p = at(peer);
    if (!failed && now_ms >= p.backoff_until_ms) {
        p.backoff_ms = p.backoff_ms == 0 ? kFirstBackoffMs : std::min(p.backoff_ms * 2, kMaxBackoffMs);
        p.backoff_until_ms = now_ms + p.backoff_ms;
    }
    return failed;
}

void ListChecks::seen(const crypto::VeilId& peer, const crypto::PublicKey& device, bool became_named) {
    auto& p = at(peer);
    if (p.seen.size() >= kMaxSeenDevices) p.seen.clear();
    p.seen.insert(device);
    // A read named a device unnamed before (one just added): the backoff was for a device that
    // is theirs after all, so the next unnamed one is read at once again.
    if (became_named) p.backoff_ms = p.backoff_until_ms = 0;
}

ListChecks::Peer& ListChecks::at(const crypto::VeilId& peer) {
    if (auto it = peers_.find(peer); it != peers_.end()) return it->second;
    if (peers_.size() >= kMaxCheckedPeers) {
        // The least recently read peer without a read in flight goes (its answer still finds nothing).
        auto victim = peers_.end();
        for (auto it = peers_.begin(); it != peers_.end(); ++it) {
            if (!it->second.waiting.empty()) continue;
            if (victim == peers_.end() || it->second.read_ms < victim->second.read_ms) victim = it;
        }
        if (victim != peers_.end()) peers_.erase(victim);
    }
    return peers_[peer];
}

}  // namespace veil::messenger
