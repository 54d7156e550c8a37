#include "group_book.hpp"

#include <algorithm>
#include <stdexcept>

#include "group_leave.hpp"
#include "veil/proto/namespaces.hpp"
#include "veil/proto/owner_auth.hpp"

namespace veil::messenger {
namespace {

constexpr std::uint8_t kControlVersion = 1;
constexpr std::uint8_t kRecordVersion = 5;
constexpr std::uint8_t kV4RecordVersion = 4;   // v5 without its evicted envelopes
constexpr std::uint8_t kOldRecordVersion = 3;  // v4 without its read state and rotation window
constexpr std::size_t kMaxRecordField = 1 << 20;
// An invitation carries up to 1,000 states; 100 members take 3.4 KiB each (1,000 members 33 KiB).
constexpr std::size_t kMaxControlBody = 8 << 20;

crypto::SecretBytes state_control(const crypto::GroupState& state) {
    return encode_group_control(GroupControlKind::state, state.encode().view());
}

crypto::SecretBytes chain_control(const crypto::SenderChain& chain) {
    return encode_group_control(GroupControlKind::chain, chain.distribution().encode().view());
}

crypto::SecretBytes invitation_control(const std::vector<crypto::GroupState>& past, const crypto::GroupState& current) {
    std::vector<const crypto::GroupState*> history;
    for (const auto& s : past) history.push_back(&s);
    history.push_back(&current);
    return encode_group_control(GroupControlKind::invitation, encode_group_invitation(history).view());
}

bool read_flag(wire::Reader& r) {
    const auto v = r.u8();
    if (v > 1) throw wire::DecodeError("flag other than 0 or 1");
    return v == 1;
}

std::vector<crypto::VeilId> newcomers(const crypto::GroupState& before, const crypto::GroupState& after) {
    std::vector<crypto::VeilId> out;
    for (const auto& m : after.members()) {
        if (!before.is_member(m.id)) out.push_back(m.id);
    }
    return out;
}

// The entry that makes room for one more entry of `owner` in `list` (oldest first): an owner at
// its quota gives up its own oldest entry; a full list gives up the oldest entry of the owner
// holding the most, so nobody evicts another's entries while holding fewer than them.
template <class T, class OwnerOf>
std::optional<std::size_t> room_victim(const std::vector<T>& list, const crypto::VeilId& owner, std::size_t per_owner,
                                       std::size_t total, OwnerOf owner_of) {
    std::map<crypto::VeilId, std::size_t> counts;
    for (const auto& x : list) ++counts[owner_of(x)];
    std::optional<crypto::VeilId> victim;
    if (counts[owner] >= per_owner) {
        victim = owner;
    } else if (list.size() >= total) {
        victim = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
                     return a.second < b.second;
                 })->first;
    }
    if (!victim) return std::nullopt;
    return static_cast<std::size_t>(
        std::find_if(list.begin(), list.end(), [&](const T& x) { return owner_of(x) == *victim; }) - list.begin());
}

template <class T, class OwnerOf>
void make_room(std::vector<T>& list, const crypto::VeilId& owner, std::size_t per_owner, std::size_t total,
               OwnerOf owner_of) {
    if (auto v = room_victim(list, owner, per_owner, total, owner_of)) list.erase(list.begin() + static_cast<std::ptrdiff_t>(*v));
}

// The states of a group's line, oldest first: its kept history, then the current one.
template <class Group>
std::vector<const crypto::GroupState*> line_of(const Group& g) {
    std::vector<const crypto::GroupState*> out;
    for (const auto& h : g.history) out.push_back(&h);
    out.push_back(&g.state);
    return out;
}

// Keeps the genesis, every state that changed the admins, and the last `recent` versions: what
// a newcomer needs to check the line (GroupState::accept_history) and a member to judge a fork.
void compact(std::vector<crypto::GroupState>& history, std::size_t recent) {
    if (history.size() <= recent) return;
    std::vector<crypto::GroupState> kept;
    for (std::size_t i = 0; i < history.size(); ++i) {
        if (i == 0 || i + recent >= history.size() || !history[i].same_admins(kept.back())) {
            kept.push_back(std::move(history[i]));
        }
    }
    // A group whose admins changed 1,000 times keeps its newest changes: newcomers can no longer
    // check its line (documented), members and storage are unharmed.
    while (kept.size() + 1 > crypto::GroupState::max_history) kept.erase(kept.begin() + 1);
    history = std::move(kept);
}

// What a state costs in memory, near enough to bound requests without encoding them.
std::size_t footprint(const crypto::GroupState& s) { return 256 + s.name().size() + 33 * s.members().size(); }

void check_count(std::size_t n, std::size_t bound, const char* what) {
    if (n > bound) throw crypto::Error(crypto::ErrorKind::too_large, std::string("group record: too many ") + what);
}

std::size_t read_count(wire::Reader& r, bool wide, std::size_t bound) {
    const std::size_t n = wide ? r.u16() : r.u8();
    if (n > bound) throw wire::DecodeError("count above its bound");
    return n;
}

}  // namespace

crypto::SecretBytes encode_group_control(GroupControlKind kind, wire::ByteView body) {
    crypto::SecretBytes out(2 + 4 + body.size());
    out.data()[0] = kControlVersion;
    out.data()[1] = static_cast<std::uint8_t>(kind);
    const auto n = static_cast<std::uint32_t>(body.size());
    for (int i = 0; i < 4; ++i) out.data()[2 + i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
    std::copy(body.begin(), body.end(), out.data() + 6);
    return out;
}

GroupControl decode_group_control(wire::ByteView bytes) {
    try {
        wire::Reader r(bytes);
        if (r.u8() != kControlVersion) throw wire::DecodeError("unsupported group control version");
        const auto kind = r.u8();
        if (kind < static_cast<std::uint8_t>(GroupControlKind::state) ||
            kind > static_cast<std::uint8_t>(GroupControlKind::invitation)) {
            throw wire::DecodeError("unknown group control kind");
        }
        GroupControl c;
        c.kind = static_cast<GroupControlKind>(kind);
        c.body = crypto::SecretBytes::copy_of(r.var(kMaxControlBody));
        r.expect_done();
        return c;
    } catch (const wire::DecodeError& e) {
        throw crypto::Error(crypto::ErrorKind::malformed, std::string("group control: ") + e.what());
    }
}

crypto::SecretBytes encode_group_invitation(const std::vector<const crypto::GroupState*>& history) {
    if (history.size() > crypto::GroupState::max_history) {
        throw crypto::Error(crypto::ErrorKind::too_large, "group history above 1000 versions");
    }
    std::vector<crypto::SecretBytes> states;
    std::size_t size = 2;
    for (const auto* s : history) {
        states.push_back(s->encode());
        size += 4 + states.back().size();
    }
    crypto::SecretBytes out(size);
    std::size_t at = 0;
    auto put = [&](std::uint32_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) out.data()[at++] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    put(static_cast<std::uint32_t>(states.size()), 2);
    for (const auto& st : states) {
        put(static_cast<std::uint32_t>(st.size()), 4);
        std::copy(st.view().begin(), st.view().end(), out.data() + at);
        at += st.size();
    }
    return out;
}

std::vector<crypto::GroupState> decode_group_invitation(wire::ByteView body) {
    try {
        wire::Reader r(body);
        const auto n = r.u16();
        if (n == 0 || n > crypto::GroupState::max_history) throw wire::DecodeError("history of 0 or above 1000 states");
        std::vector<crypto::GroupState> out;
        for (std::uint16_t i = 0; i < n; ++i) out.push_back(crypto::GroupState::decode(r.var(kMaxControlBody)));
        r.expect_done();
        return out;
    } catch (const wire::DecodeError& e) {
        throw crypto::Error(crypto::ErrorKind::malformed, std::string("group invitation: ") + e.what());
    }
}

GroupBook::GroupBook(crypto::VeilId self) : self_(self) {}

// Record: u8 5 | var state | u8 request [u64 first seen] | u8 own? [var chain] | u8 n (previous
// own key) | u16 n (owner | device | var chain) | u8 n (old mailbox seed) | u8 n (var pending
// state) | u16 n (var history state, without seed) | read state and rotation window
// (write_read_state; absent in v3, its evicted envelopes absent in v4). Every count is bounded on both sides.
std::vector<sdk::storage::BatchOp> GroupBook::save_ops(std::string_view ns) const {
    std::vector<sdk::storage::BatchOp> ops;
    for (const auto& [id, g] : groups_) {
        check_count(g.chains.size(), max_chains, "chains");
        check_count(g.old_mailboxes.size(), max_old_epochs, "old mailboxes");
        check_count(g.own_previous.size(), max_old_epochs, "own earlier chains");
        check_count(g.pending.size(), max_pending_states, "pending states");
        check_count(g.history.size(), crypto::GroupState::max_history, "history states");
        wire::Writer w;
        w.u8(kRecordVersion).var(g.state.encode().view()).u8(g.request ? 1 : 0);
        // When a request was first seen: it expires 14 days after that, restarts or not.
        if (g.request) w.u64(g.request_seen_ms);
        w.u8(g.own ? 1 : 0);
        if (g.own) w.var(g.own->serialize().view());
        w.u8(static_cast<std::uint8_t>(g.own_previous.size()));
        for (const auto& k : g.own_previous) w.raw(k);
        w.u16(static_cast<std::uint16_t>(g.chains.size()));
        for (const auto& r : g.chains) w.raw(r.owner.x25519).raw(r.device).var(r.chain.serialize().view());
        w.u8(static_cast<std::uint8_t>(g.old_mailboxes.size()));
        for (const auto& m : g.old_mailboxes) w.raw(m.seed().view());
        w.u8(static_cast<std::uint8_t>(g.pending.size()));
        for (const auto& p : g.pending) w.var(p.encode().view());
        w.u16(static_cast<std::uint16_t>(g.history.size()));
        for (const auto& h : g.history) w.var(h.encode().view());
        write_read_state(w, g);
        ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::put, std::string(ns),
                                           group_record_key(id), w.take()});
    }
    // Device lists: u8 1 | u16 n | n x (id[32] | u16 k | k x device key[32]).
    check_count(devices_.size(), max_device_lists, "device lists");
    wire::Writer w;
    w.u8(1).u16(static_cast<std::uint16_t>(devices_.size()));
    for (const auto& [id, keys] : devices_) {
        check_count(keys.size(), max_devices_per_person, "devices");
        w.raw(id.x25519).u16(static_cast<std::uint16_t>(keys.size()));
        for (const auto& k : keys) w.raw(k);
    }
    ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::put, std::string(ns),
                                       std::string(kGroupDevicesKey), w.take()});
    // Declined invitations: u8 1 | u16 n | n x (group_id[32] | signer[32] | u64 epoch), oldest first.
    if (!declined_.empty()) {
        check_count(declined_.size(), max_declined, "declined invitations");
        wire::Writer d;
        d.u8(1).u16(static_cast<std::uint16_t>(declined_.size()));
        for (const auto& x : declined_) d.raw(x.group).raw(x.signer.x25519).u64(x.epoch);
        ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::put, std::string(ns),
                                           std::string(kGroupDeclinedKey), d.take()});
    }
    // Leave notices held: u8 1 | u16 n | n x (group_id[32] | leaver[32] | named digest[32] | u64 since).
    if (!leaves_.empty()) {
        check_count(leaves_.size(), max_held_leaves, "held leave notices");
        wire::Writer l;
        l.u8(1).u16(static_cast<std::uint16_t>(leaves_.size()));
        for (const auto& x : leaves_) l.raw(x.group).raw(x.leaver.x25519).raw(x.named).u64(x.since_ms);
        ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::put, std::string(ns),
                                           std::string(kGroupLeavesKey), l.take()});
    } else {
        // The last notice signed or dropped: its record goes too, or a restart would hold it again.
        ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::erase, std::string(ns),
                                           std::string(kGroupLeavesKey), {}});
    }
    return ops;
}

GroupBook GroupBook::load(crypto::VeilId self, const std::vector<sdk::storage::Entry>& entries) {
    GroupBook book(self);
    for (const auto& e : entries) {
        try {
            wire::Reader r(e.value);
            if (e.key == kGroupDevicesKey) {
                if (r.u8() != 1) throw wire::DecodeError("unsupported device lists version");
                const auto people = read_count(r, true, max_device_lists);
                for (std::size_t i = 0; i < people; ++i) {
                    crypto::VeilId id{wire::to_array<32>(r.raw(32))};
                    // One list per person, in order: the record stores back as the same bytes.
                    if (!book.devices_.empty() && !(book.devices_.rbegin()->first < id)) {
                        throw wire::DecodeError("device lists out of order");
                    }
                    auto& keys = book.devices_[id];
                    const auto n = read_count(r, true, max_devices_per_person);
                    for (std::size_t k = 0; k < n; ++k) keys.push_back(wire::to_array<32>(r.raw(32)));
                }
                r.expect_done();
                continue;
            }
            if (e.key == kGroupDeclinedKey) {
                if (r.u8() != 1) throw wire::DecodeError("unsupported declined invitations version");
                const auto n = read_count(r, true, max_declined);
                if (n == 0) throw wire::DecodeError("an empty declined record is never stored");
                for (std::size_t i = 0; i < n; ++i) {
                    Declined x;
                    x.group = wire::to_array<32>(r.raw(32));
                    x.signer = crypto::VeilId{wire::to_array<32>(r.raw(32))};
                    x.epoch = r.u64();
                    book.declined_.push_back(x);
                }
                r.expect_done();
                continue;
            }
            if (e.key == kGroupLeavesKey) {
                if (r.u8() != 1) throw wire::DecodeError("unsupported leave notices version");
                const auto n = read_count(r, true, max_held_leaves);
                if (n == 0) throw wire::DecodeError("an empty leave notices record is never stored");
                for (std::size_t i = 0; i < n; ++i) {
                    HeldLeave x;
                    x.group = wire::to_array<32>(r.raw(32));
                    x.leaver = crypto::VeilId{wire::to_array<32>(r.raw(32))};
                    x.named = wire::to_array<32>(r.raw(32));
                    x.since_ms = r.u64();
                    book.leaves_.push_back(x);
                }
                r.expect_done();
                continue;
            }
            const auto version = r.u8();
            if (version != kRecordVersion && version != kV4RecordVersion && version != kOldRecordVersion) {
                throw wire::DecodeError("unsupported group record version");
            }
            Group g{crypto::GroupState::decode(r.var(kMaxRecordField)), false, std::nullopt, {}, {}, {}, {}, {}, 0, {}, {}, {}, 0, 0, false, {}};
            if (!g.state.has_seed()) throw wire::DecodeError("group state without its seed");
            g.request = read_flag(r);
            if (g.request) g.request_seen_ms = r.u64();
            if (read_flag(r)) g.own = crypto::SenderChain::deserialize(r.var(kMaxRecordField));
            const auto own_previous = read_count(r, false, max_old_epochs);
            for (std::size_t i = 0; i < own_previous; ++i) g.own_previous.push_back(wire::to_array<32>(r.raw(32)));
            const auto chains = read_count(r, true, max_chains);
            for (std::size_t i = 0; i < chains; ++i) {
                crypto::VeilId owner{wire::to_array<32>(r.raw(32))};
                const auto device = wire::to_array<32>(r.raw(32));
                g.chains.push_back(Received{owner, device, crypto::SenderChain::deserialize(r.var(kMaxRecordField))});
            }
            const auto old = read_count(r, false, max_old_epochs);
            for (std::size_t i = 0; i < old; ++i) g.old_mailboxes.push_back(crypto::SigningKeyPair::from_seed(r.raw(32)));
            const auto pending = read_count(r, false, max_pending_states);
            for (std::size_t i = 0; i < pending; ++i) {
                g.pending.push_back(crypto::GroupState::decode(r.var(kMaxRecordField)));
                if (!g.pending.back().has_seed()) throw wire::DecodeError("pending state without its seed");
            }
            const auto history = read_count(r, true, crypto::GroupState::max_history);
            for (std::size_t i = 0; i < history; ++i) {
                g.history.push_back(crypto::GroupState::decode(r.var(kMaxRecordField)));
                if (g.history.back().has_seed()) throw wire::DecodeError("history state with its seed");
            }
            if (version != kOldRecordVersion) read_read_state(r, g, version == kRecordVersion);
            r.expect_done();
            const auto id = g.state.group_id();
            book.groups_.emplace(id, std::move(g));
        } catch (const wire::DecodeError& err) {
            throw crypto::Error(crypto::ErrorKind::malformed, std::string("group record: ") + err.what());
        }
    }
    return book;
}

GroupBook::Group& GroupBook::find(const crypto::GroupId& group) {
    auto it = groups_.find(group);
    if (it == groups_.end()) throw std::out_of_range("unknown group " + crypto::group_id_str(group));
    return it->second;
}

std::vector<crypto::VeilId> GroupBook::audience(const crypto::GroupState& state) const {
    std::vector<crypto::VeilId> out;
    for (const auto& m : state.members()) out.push_back(m.id);  // our own ID: our other devices
    return out;
}

std::vector<GroupDelivery> GroupBook::create(const crypto::Identity& me, std::string_view name,
                                             const std::vector<crypto::VeilId>& members, std::uint64_t now_ms,
                                             crypto::GroupId& created) {
    auto state = crypto::GroupState::create(me, name, members, now_ms);
    created = state.group_id();
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(state), invitation_control({}, state)});
    groups_.emplace(created, Group{std::move(state), false, std::nullopt, {}, {}, {}, {}, {}, 0, {}, {}, {}, 0, 0, false, {}});
    return out;
}

std::vector<GroupDelivery> GroupBook::add(const crypto::Identity& me, const crypto::GroupId& group,
                                          const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_added(me, ids, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(g.state), state_control(next)});
    std::vector<crypto::GroupState> past;
    for (const auto& h : g.history) past.push_back(h.clone());
    past.push_back(g.state.public_copy());
    out.push_back(GroupDelivery{newcomers(g.state, next), invitation_control(past, next)});
    adopt(g, std::move(next));
    return out;
}

std::vector<GroupDelivery> GroupBook::remove(const crypto::Identity& me, const crypto::GroupId& group,
                                             const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_removed(me, ids, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    adopt(g, std::move(next));
    return out;
}

std::vector<GroupDelivery> GroupBook::make_admin(const crypto::Identity& me, const crypto::GroupId& group,
                                                 const crypto::VeilId& id, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_role(me, id, crypto::GroupRole::admin, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    adopt(g, std::move(next));
    return out;
}

// Takes a state that was accepted: the one it replaces joins the history (without its seed); a
// new epoch forgets our chain (a new one goes out with our next message) and keeps one previous
// mailbox to read; chains of removed members go.
void GroupBook::adopt(Group& g, crypto::GroupState next) {
    if (next.epoch() != g.state.epoch()) {
        // A new mailbox we chose went out on today's device lists: a revoked device has not got it.
        if (next.signer() == self_) g.rotation_owed = false;
        // A state of an invitation's line has no seed: there is no mailbox of ours to read.
        if (g.state.has_seed()) g.old_mailboxes.push_back(g.state.mailbox_keys());
        if (g.old_mailboxes.size() > max_old_epochs) g.old_mailboxes.erase(g.old_mailboxes.begin());
        if (g.own) g.own_previous.push_back(g.own->signing_key());
        if (g.own_previous.size() > max_old_epochs) g.own_previous.erase(g.own_previous.begin());
        g.own.reset();
    }
    const auto oldest_epoch = next.epoch() > max_old_epochs ? next.epoch() - max_old_epochs : 1;
    std::erase_if(g.chains, [&](const Received& r) {
        return r.chain.epoch() < oldest_epoch || !next.is_member(r.owner);
    });
    g.history.push_back(g.state.public_copy());
    compact(g.history, recent_history);
    g.state = std::move(next);
}

// A state of a group we hold: the next version applies (and any waiting one that follows it); a
// later one waits for its predecessors; one of a version we hold is a fork (rival).
void GroupBook::change(Group& g, crypto::GroupState incoming) {
    if (!incoming.has_seed()) throw crypto::Error(crypto::ErrorKind::invalid_argument, "group state without its seed");
    if (incoming.version() <= g.state.version()) {
        rival(g, std::move(incoming));
        return;
    }
    try {
        adopt(g, crypto::GroupState::accept_update(g.state, incoming.clone()));
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::too_many_skipped) throw;
        hold_pending(g, std::move(incoming));
        return;
    }
    apply_pending(g);
}

void GroupBook::apply_pending(Group& g) {
    for (bool progress = true; progress;) {
        progress = false;
        std::erase_if(g.pending, [&](const crypto::GroupState& p) { return p.version() <= g.state.version(); });
        for (auto it = g.pending.begin(); it != g.pending.end(); ++it) {
            try {
                auto next = crypto::GroupState::accept_update(g.state, it->clone());
                g.pending.erase(it);
                adopt(g, std::move(next));
                progress = true;
                break;
            } catch (const crypto::Error&) {
            }
        }
    }
}

// A state that must wait for its predecessor. Only an admin of a state we hold can sign one that
// will follow: anyone else's (a fresh identity naming itself admin) waits only in room no such
// state needs, and the lowest waiting version such an admin signed, the one needed next, stays.
void GroupBook::hold_pending(Group& g, crypto::GroupState incoming) {
    incoming.verify_self();
    for (const auto& p : g.pending) {
        if (p.same_signed(incoming)) return;
    }
    const auto signer = incoming.signer();
    g.pending.push_back(std::move(incoming));
    std::stable_sort(g.pending.begin(), g.pending.end(),
                     [](const crypto::GroupState& a, const crypto::GroupState& b) { return a.version() < b.version(); });
    const auto held = line_of(g);
    auto trusted = [&](const crypto::VeilId& id) {
        return std::any_of(held.begin(), held.end(), [&](const auto* s) { return s->is_admin(id); });
    };
    for (;;) {
        const auto next = std::find_if(g.pending.begin(), g.pending.end(),
                                       [&](const crypto::GroupState& p) { return trusted(p.signer()); });
        std::map<crypto::VeilId, std::size_t> counts;  // what may go: all but the one needed next
        std::size_t own = 0;
        for (auto it = g.pending.begin(); it != g.pending.end(); ++it) {
            own += it->signer() == signer ? 1 : 0;
            if (it != next) ++counts[it->signer()];
        }
        std::optional<crypto::VeilId> victim;
        if (own > max_pending_per_signer) {
            victim = signer;
        } else if (g.pending.size() > max_pending_states) {
            // The biggest holder among strangers to the admins first, then among everyone.
            for (const bool strangers_only : {true, false}) {
                for (const auto& [id, n] : counts) {
                    if ((!strangers_only || !trusted(id)) && (!victim || n > counts[*victim])) victim = id;
                }
                if (victim) break;
            }
        }
        if (!victim) return;
        auto last = g.pending.end();
        for (auto it = g.pending.begin(); it != g.pending.end(); ++it) {
            if (it != next && it->signer() == *victim) last = it;  // its highest version
        }
        g.pending.erase(last);
    }
}

// A state of a version we hold: the same one again, or another branch of the group parted from
// ours at its predecessor. The branch every device prefers is kept (GroupState::prefers).
void GroupBook::rival(Group& g, crypto::GroupState incoming) {
    const auto held = line_of(g);
    const crypto::GroupState* base = nullptr;
    std::vector<const crypto::GroupState*> ours;
    for (const auto* s : held) {
        if (s->same_signed(incoming)) throw crypto::Error(crypto::ErrorKind::stale_version, "group state already held");
        if (s->version() + 1 == incoming.version()) base = s;
        if (s->version() >= incoming.version()) ours.push_back(s);
    }
    if (base == nullptr) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "group state older than the versions kept");
    }
    auto accepted = crypto::GroupState::accept_update(*base, std::move(incoming));
    refuse_removed_signer(g, *base, accepted);
    if (!crypto::GroupState::prefers(*base, ours, {&accepted})) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "group state of a branch that loses to the one held");
    }
    std::vector<crypto::GroupState> branch;
    branch.push_back(std::move(accepted));
    switch_branch(g, base->version(), std::move(branch));
}

// An invitation's line for a group we hold (already accepted as a whole): the versions we miss,
// or a branch parted from ours that wins over it (a newcomer that a removed admin invited into
// its fork takes the real group when an admin of it invites it).
void GroupBook::merge(Group& g, std::vector<crypto::GroupState> line) {
    const auto held = line_of(g);
    std::size_t common = line.size();
    const crypto::GroupState* base = nullptr;
    for (std::size_t i = line.size(); i-- > 0 && base == nullptr;) {
        for (const auto* s : held) {
            if (s->same_signed(line[i])) {
                base = s;
                common = i;
                break;
            }
        }
    }
    if (base == nullptr) throw crypto::Error(crypto::ErrorKind::untrusted_key, "group invitation shares no state with ours");
    std::vector<crypto::GroupState> branch;
    for (std::size_t i = common + 1; i < line.size(); ++i) branch.push_back(std::move(line[i]));
    if (branch.empty()) throw crypto::Error(crypto::ErrorKind::stale_version, "group invitation brings nothing newer");
    // A member takes one version at a time, each made from the one before: never a jump (its
    // version and members are only its signer's word).
    for (std::size_t i = 0; i < branch.size(); ++i) {
        branch[i] = crypto::GroupState::accept_update(i == 0 ? *base : branch[i - 1], std::move(branch[i]));
    }
    if (base == &g.state) {
        for (auto& s : branch) adopt(g, std::move(s));
        apply_pending(g);
        return;
    }
    std::vector<const crypto::GroupState*> ours;
    std::vector<const crypto::GroupState*> theirs;
    for (const auto* s : held) {
        if (s->version() > base->version()) ours.push_back(s);
    }
    for (const auto& s : branch) theirs.push_back(&s);
    refuse_removed_signer(g, *base, branch.front());
    if (!crypto::GroupState::prefers(*base, ours, theirs)) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "group invitation of a branch that loses to the one held");
    }
    switch_branch(g, base->version(), std::move(branch));
}

// Once we accepted that an admin of the fork point is an admin no more, a branch it began is
// refused whatever its rank: a removed admin cannot take back, with a made-up fork, members who
// saw its removal (docs/groups.md §Forks, the one case where arrival order counts).
void GroupBook::refuse_removed_signer(const Group& g, const crypto::GroupState& base, const crypto::GroupState& first) {
    const auto signer = first.signer();
    if (base.is_admin(signer) && !g.state.is_admin(signer)) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "group branch begun by an admin we saw removed");
    }
}

// Leaves our branch for `branch` (states after the one of `base_version`, the last with its
// seed): the losing mailbox stays readable for what was sent to it; our chain is kept only when
// the winner has the same epoch and members (two rotations that raced), else a new one goes out.
void GroupBook::switch_branch(Group& g, std::uint64_t base_version, std::vector<crypto::GroupState> branch) {
    auto loser = std::move(g.state);
    auto own = std::move(g.own);
    g.own.reset();
    g.old_mailboxes.push_back(loser.mailbox_keys());
    auto base = std::find_if(g.history.begin(), g.history.end(),
                             [&](const crypto::GroupState& h) { return h.version() == base_version; });
    g.state = std::move(*base);
    g.history.erase(base, g.history.end());
    for (auto& s : branch) adopt(g, std::move(s));
    const bool same = g.state.epoch() == loser.epoch() && g.state.same_members(loser);
    if (own && same) {
        g.own = std::move(own);
        std::erase(g.own_previous, g.own->signing_key());
    } else if (own) {
        g.own_previous.push_back(own->signing_key());
    }
    while (g.old_mailboxes.size() > max_old_epochs) g.old_mailboxes.erase(g.old_mailboxes.begin());
    while (g.own_previous.size() > max_old_epochs) g.own_previous.erase(g.own_previous.begin());
    std::erase_if(g.chains, [&](const Received& r) { return !g.state.is_member(r.owner); });
    apply_pending(g);
}

// A group we do not hold, from its whole history: a member's state signed by itself as admin
// verifies on its own, but does not chain to the creator's genesis.
void GroupBook::take_invitation(const crypto::VeilId& from, wire::ByteView body, bool from_contact) {
    auto line = decode_group_invitation(body);
    const auto& last = line.back();
    const auto id = last.group_id();
    // Cheap checks first: a stranger's invitation costs no signature check beyond them.
    // The newest state is its signer's word, so only the signer may bring it.
    if (last.signer() != from) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "group invitation not sent by its signer");
    }
    if (!last.is_member(self_)) {
        throw crypto::Error(crypto::ErrorKind::invalid_argument, "group invitation that does not list us");
    }
    auto held = groups_.find(id);
    // A group we declined comes back only with a later epoch (we were removed and added again).
    if (held == groups_.end() && std::any_of(declined_.begin(), declined_.end(), [&](const Declined& d) {
            return d.group == id && last.epoch() <= d.epoch;
        })) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "an invitation we declined");
    }
    const bool request = held == groups_.end() && !from_contact && from != self_;
    std::size_t bytes = 0;
    for (const auto& s : line) bytes += footprint(s);
    if (request) {
        std::size_t all = 0;
        std::size_t theirs = 0;
        for (const auto& [gid, g] : groups_) {
            all += g.request ? 1 : 0;
            theirs += g.request && g.state.signer() == from ? 1 : 0;
        }
        if (all >= max_requests || theirs >= max_requests_per_signer || request_bytes() + bytes > max_request_bytes) {
            throw crypto::Error(crypto::ErrorKind::too_large, "too many group requests held");
        }
    }
    std::vector<crypto::GroupState> checked;
    for (const auto& s : line) checked.push_back(s.clone());
    auto state = crypto::GroupState::accept_history(std::move(checked));
    if (held != groups_.end()) {
        merge(held->second, std::move(line));
        return;
    }
    std::vector<crypto::GroupState> past;
    for (std::size_t i = 0; i + 1 < line.size(); ++i) past.push_back(line[i].public_copy());
    groups_.emplace(id, Group{std::move(state), request, std::nullopt, {}, {}, {}, {}, std::move(past), 0, {}, {}, {}, 0, 0, false, {}});
    adopt_orphans(&id, nullptr);
}

std::size_t GroupBook::request_bytes() const {
    std::size_t out = 0;
    for (const auto& [id, g] : groups_) {
        if (!g.request) continue;
        for (const auto* s : line_of(g)) out += footprint(*s);
    }
    return out;
}

std::vector<crypto::GroupId> GroupBook::expire_requests(std::uint64_t now_ms) {
    std::vector<crypto::GroupId> dropped;
    for (auto it = groups_.begin(); it != groups_.end();) {
        auto& g = it->second;
        if (g.request && (g.request_seen_ms == 0 || g.request_seen_ms > now_ms)) g.request_seen_ms = now_ms;
        if (g.request && now_ms - g.request_seen_ms > request_ttl_ms) {
            dropped.push_back(it->first);
            it = groups_.erase(it);
        } else {
            ++it;
        }
    }
    if (!dropped.empty()) prune_device_lists();
    return dropped;
}

std::vector<GroupDelivery> GroupBook::receive_control(const crypto::VeilId& from, const crypto::PublicKey& device,
                                                      wire::ByteView payload, bool from_contact) {
    auto control = decode_group_control(payload);
    switch (control.kind) {
    case GroupControlKind::chain:
        take_chain(from, device, control.body.view());
        break;
    case GroupControlKind::invitation:
        take_invitation(from, control.body.view(), from_contact);
        break;
    case GroupControlKind::state: {
        auto incoming = crypto::GroupState::decode(control.body.view());
        auto it = groups_.find(incoming.group_id());
        if (it == groups_.end()) {
            throw crypto::Error(crypto::ErrorKind::untrusted_key, "group state of a group not held (it needs its history)");
        }
        change(it->second, std::move(incoming));
        break;
    }
    }
    return {};
}

std::vector<GroupDelivery> GroupBook::devices_changed(const crypto::Identity& me, const crypto::VeilId& member,
                                                      std::vector<crypto::PublicKey> active) {
    return devices_changed(me, member, std::move(active), 0);
}

std::vector<GroupDelivery> GroupBook::devices_changed(const crypto::Identity& me, const crypto::VeilId& member,
                                                      std::vector<crypto::PublicKey> active, std::uint64_t now_ms) {
    // Bounded: past max_device_lists people a new one is not kept (save_ops would refuse them all).
    if (!devices_.contains(member) && devices_.size() >= max_device_lists) return {};
    auto& listed = devices_[member];
    const bool revoked = std::any_of(listed.begin(), listed.end(), [&](const crypto::PublicKey& d) {
        return std::find(active.begin(), active.end(), d) == active.end();
    });
    listed = std::move(active);
    std::vector<GroupDelivery> out;
    for (auto& [id, g] : groups_) {
        std::erase_if(g.chains, [&](const Received& r) { return r.owner == member && !listed_device(member, r.device); });
        if (!revoked || g.request || !g.state.is_member(member)) continue;
        // Every admin rotates on its own view (the first one may be offline); when two do, every
        // device keeps the same rotation (GroupState::prefers) and both hold the same members.
        if (!g.state.is_admin(self_)) continue;
        rotate_for_revocation(me, g, now_ms, &member, out);
    }
    adopt_orphans(nullptr, &member);  // chains that waited for this list
    return out;
}

// Without a clock (now_ms 0) every revocation rotates at once.
void GroupBook::rotate_for_revocation(const crypto::Identity& me, Group& g, std::uint64_t now_ms,
                                      const crypto::VeilId* revoker, std::vector<GroupDelivery>& out) {
    if (now_ms != 0) {
        if (now_ms < g.rotation_window_ms || now_ms - g.rotation_window_ms >= rotation_window_ms) {
            g.rotation_window_ms = now_ms;
            g.rotations = 0;
            g.revokers.clear();
        }
        // The quota is shared, but each member's first revocation in the window rotates at once:
        // one cycling its own devices cannot hold back a victim's revocation of a stolen phone.
        const bool first = revoker != nullptr &&
                           std::find(g.revokers.begin(), g.revokers.end(), *revoker) == g.revokers.end();
        if (first) g.revokers.push_back(*revoker);
        if (!first && g.rotations >= max_rotations_per_window) {
            g.rotation_owed = true;
            return;
        }
        if (g.rotations < 255) ++g.rotations;  // u8 stored; first revocations may go past the quota
    }
    g.rotation_owed = false;
    auto next = g.state.with_rotated(me);
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    adopt(g, std::move(next));
}

std::vector<GroupDelivery> GroupBook::rotate_owed(const crypto::Identity& me, std::uint64_t now_ms) {
    std::vector<GroupDelivery> out;
    for (auto& [id, g] : groups_) {
        // An admin no more (or a request): the rotation is someone else's to make.
        if (!g.rotation_owed || g.request || !g.state.is_admin(self_)) continue;
        if (now_ms >= g.rotation_window_ms && now_ms - g.rotation_window_ms < rotation_window_ms) continue;
        rotate_for_revocation(me, g, now_ms, nullptr, out);
    }
    return out;
}

bool GroupBook::listed_device(const crypto::VeilId& member, const crypto::PublicKey& device) const {
    auto it = devices_.find(member);
    return it != devices_.end() && std::find(it->second.begin(), it->second.end(), device) != it->second.end();
}

void GroupBook::adopt_orphans(const crypto::GroupId* group, const crypto::VeilId* member) {
    auto waiting = std::move(orphans_);
    orphans_.clear();
    for (auto& o : waiting) {
        const auto of = crypto::SenderKeyDistribution::decode(o.body.view()).group_id;
        if ((group && of != *group) || (member && (o.from != *member || !groups_.contains(of)))) {
            orphans_.push_back(std::move(o));
            continue;
        }
        try {
            take_chain(o.from, o.device, o.body.view());
        } catch (const crypto::Error&) {
        }
    }
}

void GroupBook::take_chain(const crypto::VeilId& from, const crypto::PublicKey& device, wire::ByteView body) {
    auto d = crypto::SenderKeyDistribution::decode(body);
    auto found = groups_.find(d.group_id);
    if (found != groups_.end() && !found->second.state.is_member(from)) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "sender chain from someone not in the group");
    }
    // Its group not held yet, or its sender's devices not known yet (a chain that came before
    // the invitation, from a member we had no list for): it waits, and is taken when they come.
    if (found == groups_.end() || !devices_.contains(from)) {
        make_room(orphans_, from, max_orphans_per_sender, max_orphan_chains, [](const Orphan& o) { return o.from; });
        orphans_.push_back(Orphan{from, device, crypto::SecretBytes::copy_of(body)});
        return;
    }
    auto& g = found->second;
    if (!listed_device(from, device)) {
        throw crypto::Error(crypto::ErrorKind::revoked, "sender chain from a device its owner does not list");
    }
    const auto epoch = g.state.epoch();
    if (d.epoch + max_old_epochs < epoch || d.epoch > epoch + 1) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "sender chain of another epoch");
    }
    // A chain held again (resent, perhaps at an earlier iteration) changes nothing: taking it
    // would forget which of its messages were read, and open them again.
    for (const auto& r : g.chains) {
        if (r.device == device && r.chain.signing_key() == d.signing_key) {
            throw crypto::Error(crypto::ErrorKind::stale_version, "sender chain already held");
        }
    }
    // One chain per device and epoch: a new one replaces it.
    std::erase_if(g.chains, [&](const Received& r) { return r.device == device && r.chain.epoch() == d.epoch; });
    if (g.chains.size() >= max_chains) throw crypto::Error(crypto::ErrorKind::too_large, "too many sender chains");
    g.chains.push_back(Received{from, device, crypto::SenderChain::from_distribution(d)});
    rewind_for(g, from);
}

void GroupBook::accept(const crypto::GroupId& group) { find(group).request = false; }

crypto::SealedEnvelope GroupBook::send(const crypto::GroupId& group, const crypto::DeviceCertificate& me,
                                       wire::ByteView plaintext, std::uint64_t ttl_ms,
                                       std::vector<GroupDelivery>& deliveries) {
    auto& g = find(group);
    if (!g.state.is_member(self_)) {
        throw crypto::Error(crypto::ErrorKind::revoked, "we are no longer a member of this group");
    }
    g.request = false;  // writing to a group accepts it, as for a person
    if (!g.own || g.own->epoch() != g.state.epoch()) {
        g.own = crypto::SenderChain::create(group, g.state.epoch());
        deliveries.push_back(GroupDelivery{audience(g.state), chain_control(*g.own)});
    }
    const auto message = g.own->encrypt(plaintext);
    const auto mailbox = g.state.mailbox_keys();
    return crypto::seal(me, message.encode(), mailbox.to_dh().pub, mailbox.pub, 0, ttl_ms);
}

GroupBook::Opened GroupBook::open(const crypto::GroupId& group, wire::ByteView envelope, GroupMessage& out) {
    auto& g = find(group);
    const auto sealed = crypto::SealedEnvelope::decode(envelope);
    const auto mailbox = mailbox_of(g, sealed.mailbox);
    if (!mailbox) throw crypto::Error(crypto::ErrorKind::untrusted_key, "envelope of another mailbox");
    const auto opened = crypto::open(sealed, mailbox->to_dh());
    const auto message = crypto::SenderKeyMessage::decode(opened.message);
    if (message.group_id != group) throw crypto::Error(crypto::ErrorKind::untrusted_key, "message of another group");
    const bool earlier_own = std::find(g.own_previous.begin(), g.own_previous.end(), message.signing_key) != g.own_previous.end();
    if ((g.own && message.signing_key == g.own->signing_key()) || earlier_own) {
        return Opened::own;
    }
    // The chain the sealed sender's device handed us: a member that passes on someone else's
    // chain as its own holds a copy no message of that chain ever matches.
    auto it = std::find_if(g.chains.begin(), g.chains.end(), [&](const Received& r) {
        return r.chain.signing_key() == message.signing_key && r.device == opened.sender.device_signing_key;
    });
    if (it == g.chains.end()) return Opened::waiting;  // its distribution has not arrived yet
    // The sealed sender must be the chain's owner: no member passes another's message as its own.
    opened.sender.verify(it->owner);
    out.plaintext = it->chain.decrypt(message);
    out.group = group;
    out.from = it->owner;
    out.device = it->device;
    out.epoch = message.epoch;
    out.iteration = message.iteration;
    return Opened::message;
}

std::optional<crypto::SigningKeyPair> GroupBook::mailbox_of(const Group& g, const crypto::PublicKey& mailbox) {
    if (auto current = g.state.mailbox_keys(); current.pub == mailbox) return current;
    for (const auto& old : g.old_mailboxes) {
        if (old.pub == mailbox) return old.clone();
    }
    return std::nullopt;
}

const crypto::GroupState* GroupBook::state(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? nullptr : &it->second.state;
}

bool GroupBook::is_request(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    return it != groups_.end() && it->second.request;
}

std::vector<crypto::GroupId> GroupBook::groups() const {
    std::vector<crypto::GroupId> out;
    for (const auto& [id, g] : groups_) out.push_back(id);
    return out;
}

std::vector<crypto::PublicKey> GroupBook::mailboxes(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    if (it == groups_.end()) return {};
    std::vector<crypto::PublicKey> out;
    for (const auto& old : it->second.old_mailboxes) out.push_back(old.pub);
    out.push_back(it->second.state.mailbox_keys().pub);
    return out;
}

std::vector<crypto::SigningKeyPair> GroupBook::mailbox_keys(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    if (it == groups_.end()) return {};
    std::vector<crypto::SigningKeyPair> out;
    for (const auto& old : it->second.old_mailboxes) out.push_back(old.clone());
    out.push_back(it->second.state.mailbox_keys());
    return out;
}

std::size_t GroupBook::chain_count(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? 0 : it->second.chains.size();
}

void GroupBook::write_read_state(wire::Writer& w, const Group& g) {
    check_count(g.cursors.size(), max_cursors_per_mailbox * (max_old_epochs + 1), "cursors");
    check_count(g.waiting.size(), max_waiting_items, "waiting envelopes");
    w.u8(static_cast<std::uint8_t>(g.cursors.size()));
    for (const auto& c : g.cursors) w.raw(c.mailbox).raw(c.node).raw(c.last);
    w.u8(static_cast<std::uint8_t>(g.waiting.size()));
    for (const auto& e : g.waiting) w.var(e.envelope);
    w.u64(g.rotation_window_ms).u8(g.rotations).u8(g.rotation_owed ? 1 : 0);
    check_count(g.evicted.size(), max_evicted, "evicted envelopes");
    w.u8(static_cast<std::uint8_t>(g.evicted.size()));
    for (const auto& e : g.evicted) w.raw(e.owner.x25519).raw(e.mailbox).raw(e.hash);
}

void GroupBook::read_read_state(wire::Reader& r, Group& g, bool with_evicted) {
    const auto cursors = read_count(r, false, max_cursors_per_mailbox * (max_old_epochs + 1));
    for (std::size_t i = 0; i < cursors; ++i) {
        Group::Cursor c;
        c.mailbox = wire::to_array<32>(r.raw(32));
        c.node = wire::to_array<32>(r.raw(32));
        c.last = wire::to_array<32>(r.raw(32));
        g.cursors.push_back(c);
    }
    const auto waiting = read_count(r, false, max_waiting_items);
    for (std::size_t i = 0; i < waiting; ++i) {
        // Who sealed it is found again when it is held again (the first thing a read does).
        auto e = r.var(max_waiting_bytes);
        g.waiting.push_back(Group::Waiting{crypto::VeilId{}, crypto::PublicKey{}, wire::Bytes(e.begin(), e.end())});
    }
    g.rotation_window_ms = r.u64();
    g.rotations = r.u8();
    g.rotation_owed = read_flag(r);
    if (!with_evicted) return;
    const auto evicted = read_count(r, false, max_evicted);
    for (std::size_t i = 0; i < evicted; ++i) {
        Group::Evicted e;
        e.owner = crypto::VeilId{wire::to_array<32>(r.raw(32))};
        e.mailbox = wire::to_array<32>(r.raw(32));
        e.hash = wire::to_array<32>(r.raw(32));
        g.evicted.push_back(e);
    }
}

std::string group_record_key(const crypto::GroupId& group) { return std::string(kGroupPrefix) + wire::to_hex(group); }

void GroupBook::forget(const crypto::GroupId& group) {
    groups_.erase(group);
    prune_device_lists();
}

void GroupBook::remember_declined(const crypto::GroupId& id, const Group& g) {
    std::erase_if(declined_, [&](const Declined& d) { return d.group == id; });
    make_room(declined_, g.state.signer(), max_declined_per_signer, max_declined, [](const Declined& d) { return d.signer; });
    declined_.push_back(Declined{id, g.state.signer(), g.state.epoch()});
}

void GroupBook::decline(const crypto::GroupId& group) {
    auto& g = find(group);
    if (!g.request) throw crypto::Error(crypto::ErrorKind::invalid_argument, "not a group request (leave the group instead)");
    remember_declined(group, g);
    groups_.erase(group);
    prune_device_lists();
}

std::vector<crypto::GroupId> GroupBook::decline_from(const crypto::VeilId& signer) {
    std::vector<crypto::GroupId> out;
    for (const auto& [id, g] : groups_) {
        if (g.request && g.state.signer() == signer) out.push_back(id);
    }
    for (const auto& id : out) {
        remember_declined(id, groups_.at(id));
        groups_.erase(id);
    }
    prune_device_lists();
    return out;
}

void GroupBook::prune_device_lists() {
    std::erase_if(devices_, [&](const auto& entry) {
        return std::none_of(groups_.begin(), groups_.end(),
                            [&](const auto& g) { return g.second.state.is_member(entry.first); });
    });
}

std::optional<crypto::PublicKey> GroupBook::cursor(const crypto::GroupId& group, const crypto::PublicKey& mailbox,
                                                   const crypto::PublicKey& node) const {
    auto it = groups_.find(group);
    if (it == groups_.end()) return std::nullopt;
    for (const auto& c : it->second.cursors) {
        if (c.mailbox == mailbox && c.node == node) return c.last;
    }
    return std::nullopt;
}

void GroupBook::set_cursor(const crypto::GroupId& group, const crypto::PublicKey& mailbox, const crypto::PublicKey& node,
                           const crypto::PublicKey& last_hash) {
    auto& g = find(group);
    const auto read = mailboxes(group);
    // Mailboxes no longer read take their cursors with them; a mailbox keeps its newest few.
    std::erase_if(g.cursors, [&](const Group::Cursor& c) {
        return (c.mailbox == mailbox && c.node == node) || std::find(read.begin(), read.end(), c.mailbox) == read.end();
    });
    if (std::find(read.begin(), read.end(), mailbox) == read.end()) return;
    g.cursors.push_back(Group::Cursor{mailbox, node, last_hash});
    const auto of_mailbox = std::count_if(g.cursors.begin(), g.cursors.end(),
                                          [&](const Group::Cursor& c) { return c.mailbox == mailbox; });
    if (static_cast<std::size_t>(of_mailbox) > max_cursors_per_mailbox) {
        g.cursors.erase(std::find_if(g.cursors.begin(), g.cursors.end(),
                                     [&](const Group::Cursor& c) { return c.mailbox == mailbox; }));
    }
}

std::optional<GroupBook::Group::Waiting> GroupBook::waiting_entry(const Group& g, wire::ByteView envelope) const {
    try {
        const auto sealed = crypto::SealedEnvelope::decode(envelope);
        const auto mailbox = mailbox_of(g, sealed.mailbox);
        if (!mailbox) return std::nullopt;
        const auto opened = crypto::open(sealed, mailbox->to_dh());
        const auto owner = opened.sender.claimed_id();
        if (!g.state.is_member(owner)) return std::nullopt;
        opened.sender.verify(owner);
        // A device its owner's list does not name (revoked) writes nothing we keep.
        if (devices_.contains(owner) && !listed_device(owner, opened.sender.device_signing_key)) return std::nullopt;
        return Group::Waiting{owner, sealed.mailbox, wire::Bytes(envelope.begin(), envelope.end())};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

GroupBook::Hold GroupBook::hold_waiting(const crypto::GroupId& group, wire::ByteView envelope) {
    auto& g = find(group);
    if (envelope.size() > max_waiting_bytes_per_member) return Hold::refused;
    for (const auto& e : g.waiting) {
        if (std::equal(e.envelope.begin(), e.envelope.end(), envelope.begin(), envelope.end())) return Hold::held;  // read from two nodes
    }
    // Only a member's: a stranger's (or a removed member's) junk would push real ones out.
    auto entry = waiting_entry(g, envelope);
    if (!entry) return Hold::refused;
    auto owner_of = [](const Group::Waiting& w) { return w.owner; };
    if (auto victim = room_victim(g.waiting, entry->owner, max_waiting_per_member, max_waiting_items, owner_of)) {
        give_up_waiting(g, *victim);
    }
    const auto owner = entry->owner;
    g.waiting.push_back(std::move(*entry));
    // Bytes too: the claimed owner over its share gives up its own oldest; a full book the
    // oldest of the owner holding the most bytes (a claim's junk never outweighs another's).
    auto bytes_of = [&](const crypto::VeilId* who) {
        std::map<crypto::VeilId, std::size_t> out;
        for (const auto& w : g.waiting) out[w.owner] += w.envelope.size();
        if (who) return std::pair{*who, out[*who]};
        std::size_t all = 0;
        for (const auto& [id, n] : out) all += n;
        auto top = std::max_element(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        return std::pair{top->first, all};
    };
    auto oldest_of = [&](const crypto::VeilId& who) {
        return static_cast<std::size_t>(
            std::find_if(g.waiting.begin(), g.waiting.end(), [&](const Group::Waiting& w) { return w.owner == who; }) -
            g.waiting.begin());
    };
    while (bytes_of(&owner).second > max_waiting_bytes_per_member) give_up_waiting(g, oldest_of(owner));
    for (auto total = bytes_of(nullptr); total.second > max_waiting_bytes; total = bytes_of(nullptr)) {
        give_up_waiting(g, oldest_of(total.first));
    }
    return Hold::held;
}

void GroupBook::give_up_waiting(Group& g, std::size_t index) {
    auto& w = g.waiting.at(index);
    const auto hash = proto::node::message_hash(w.mailbox, proto::node::kEnvelopeNamespace, w.envelope);
    if (std::none_of(g.evicted.begin(), g.evicted.end(), [&](const Group::Evicted& e) { return e.hash == hash; })) {
        make_room(g.evicted, w.owner, max_evicted_per_member, max_evicted, [](const Group::Evicted& e) { return e.owner; });
        g.evicted.push_back(Group::Evicted{w.owner, w.mailbox, hash});
    }
    g.waiting.erase(g.waiting.begin() + static_cast<std::ptrdiff_t>(index));
}

void GroupBook::rewind_for(Group& g, const crypto::VeilId& owner) {
    for (const auto& e : g.evicted) {
        if (e.owner != owner) continue;
        std::erase_if(g.cursors, [&](const Group::Cursor& c) { return c.mailbox == e.mailbox; });
    }
    std::erase_if(g.evicted, [&](const Group::Evicted& e) { return e.owner == owner; });
}

std::vector<wire::Bytes> GroupBook::take_waiting(const crypto::GroupId& group) {
    auto& g = find(group);
    std::vector<wire::Bytes> out;
    for (auto& w : g.waiting) out.push_back(std::move(w.envelope));
    g.waiting.clear();
    return out;
}

void GroupBook::hold_leave(const crypto::GroupId& group, const crypto::VeilId& leaver, const crypto::Digest& named,
                           std::uint64_t now_ms) {
    // Only a member of the state we hold can leave it: anyone else's notice would crowd out real ones.
    auto it = groups_.find(group);
    if (it == groups_.end() || !it->second.state.is_member(leaver)) return;
    std::erase_if(leaves_, [&](const HeldLeave& h) { return h.group == group && h.leaver == leaver; });
    make_room(leaves_, leaver, max_held_leaves_per_leaver, max_held_leaves, [](const HeldLeave& h) { return h.leaver; });
    leaves_.push_back(HeldLeave{group, leaver, named, now_ms});
}

std::vector<GroupDelivery> GroupBook::sign_due_leaves(const crypto::Identity& me, std::uint64_t now_ms) {
    std::vector<GroupDelivery> out;
    auto held = std::move(leaves_);
    leaves_.clear();
    for (auto& h : held) {
        auto it = groups_.find(h.group);
        if (it == groups_.end() || now_ms < h.since_ms || now_ms - h.since_ms > leave_hold_ms) continue;
        const auto& g = it->second;
        const bool in_past = std::any_of(g.history.begin(), g.history.end(),
                                         [&](const crypto::GroupState& s) { return s.digest() == h.named; });
        const auto step = leave_step(g.state, self_, h.leaver, h.named, in_past, now_ms - h.since_ms);
        if (step == LeaveStep::hold || step == LeaveStep::wait) {
            leaves_.push_back(h);
            continue;
        }
        if (step != LeaveStep::sign) continue;
        try {
            for (auto& d : remove(me, h.group, {h.leaver}, now_ms)) out.push_back(std::move(d));
        } catch (const std::exception&) {
            // Refused (an only admin would be left with none...): the notice goes, nothing changes.
        }
    }
    return out;
}

}  // namespace veil::messenger
