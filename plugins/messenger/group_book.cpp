#include "group_book.hpp"

#include <algorithm>
#include <stdexcept>

namespace veil::messenger {
namespace {

constexpr std::uint8_t kControlVersion = 1;
constexpr std::uint8_t kRecordVersion = 2;
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

// Makes room for one more entry of `owner` in `list` (oldest first): an owner at its quota gives
// up its own oldest entry; a full list gives up the oldest entry of the owner holding the most,
// so nobody evicts another's entries while holding fewer than them.
template <class T, class OwnerOf>
void make_room(std::vector<T>& list, const crypto::VeilId& owner, std::size_t per_owner, std::size_t total,
               OwnerOf owner_of) {
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
    if (!victim) return;
    list.erase(std::find_if(list.begin(), list.end(), [&](const T& x) { return owner_of(x) == *victim; }));
}

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

// Record: u8 2 | var state | u8 request | u8 own? [var chain] | u8 n (previous own key)
// | u16 n (owner | device | var chain) | u8 n (old mailbox seed) | u8 n (var pending state)
// | u16 n (var history state, without seed). Every count is bounded on both sides.
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
        ops.push_back(sdk::storage::BatchOp{sdk::storage::BatchOp::Kind::put, std::string(ns),
                                           std::string(kGroupPrefix) + wire::to_hex(id), w.take()});
    }
    return ops;
}

GroupBook GroupBook::load(crypto::VeilId self, const std::vector<sdk::storage::Entry>& entries) {
    GroupBook book(self);
    for (const auto& e : entries) {
        try {
            wire::Reader r(e.value);
            if (r.u8() != kRecordVersion) throw wire::DecodeError("unsupported group record version");
            Group g{crypto::GroupState::decode(r.var(kMaxRecordField)), false, std::nullopt, {}, {}, {}, {}, {}};
            if (!g.state.has_seed()) throw wire::DecodeError("group state without its seed");
            g.request = read_flag(r);
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
    groups_.emplace(created, Group{std::move(state), false, std::nullopt, {}, {}, {}, {}, {}});
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
        g.old_mailboxes.push_back(g.state.mailbox_keys());
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
    g.state = std::move(next);
}

// A state of a group we hold: the next version applies (and any waiting one that follows it); a
// later one waits for its predecessors.
void GroupBook::change(Group& g, crypto::GroupState incoming) {
    if (!incoming.has_seed()) throw crypto::Error(crypto::ErrorKind::invalid_argument, "group state without its seed");
    try {
        adopt(g, crypto::GroupState::accept_update(g.state, incoming.clone()));
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::too_many_skipped) throw;
        incoming.verify_self();
        make_room(g.pending, incoming.signer(), max_pending_per_signer, max_pending_states,
                  [](const crypto::GroupState& p) { return p.signer(); });
        g.pending.push_back(std::move(incoming));
        return;
    }
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

// A group we do not hold, from its whole history: a member's state signed by itself as admin
// verifies on its own, but does not chain to the creator's genesis.
void GroupBook::take_invitation(const crypto::VeilId& from, wire::ByteView body, bool from_contact) {
    auto history = decode_group_invitation(body);
    const auto id = history.back().group_id();
    if (groups_.contains(id)) throw crypto::Error(crypto::ErrorKind::stale_version, "group invitation of a group held");
    std::vector<crypto::GroupState> past;
    for (std::size_t i = 0; i + 1 < history.size(); ++i) past.push_back(history[i].public_copy());
    auto state = crypto::GroupState::accept_history(std::move(history));
    // The newest state is its signer's word, so only the signer may bring it.
    if (state.signer() != from) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "group invitation not sent by its signer");
    }
    if (!state.is_member(self_)) {
        throw crypto::Error(crypto::ErrorKind::invalid_argument, "group invitation that does not list us");
    }
    const bool request = !from_contact && from != self_;
    if (request) {
        std::size_t all = 0;
        std::size_t theirs = 0;
        for (const auto& [gid, g] : groups_) {
            all += g.request ? 1 : 0;
            theirs += g.request && g.state.signer() == from ? 1 : 0;
        }
        if (all >= max_requests || theirs >= max_requests_per_signer) {
            throw crypto::Error(crypto::ErrorKind::too_large, "too many group requests held");
        }
    }
    groups_.emplace(id, Group{std::move(state), request, std::nullopt, {}, {}, {}, {}, std::move(past)});
    adopt_orphans(id);
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
    auto& listed = devices_[member];
    const bool revoked = std::any_of(listed.begin(), listed.end(), [&](const crypto::PublicKey& d) {
        return std::find(active.begin(), active.end(), d) == active.end();
    });
    listed = std::move(active);
    std::vector<GroupDelivery> out;
    for (auto& [id, g] : groups_) {
        std::erase_if(g.chains, [&](const Received& r) { return r.owner == member && !listed_device(member, r.device); });
        if (!revoked || g.request || !g.state.is_member(member) || !g.state.is_member(self_)) continue;
        // One admin rotates, so that two admins do not sign two different next versions.
        const crypto::GroupMember* first = nullptr;
        for (const auto& m : g.state.members()) {
            if (m.role == crypto::GroupRole::admin && (first == nullptr || m.id < first->id)) first = &m;
        }
        if (first == nullptr || first->id != self_) continue;
        auto next = g.state.with_rotated(me);
        out.push_back(GroupDelivery{audience(next), state_control(next)});
        adopt(g, std::move(next));
    }
    return out;
}

bool GroupBook::listed_device(const crypto::VeilId& member, const crypto::PublicKey& device) const {
    auto it = devices_.find(member);
    return it != devices_.end() && std::find(it->second.begin(), it->second.end(), device) != it->second.end();
}

void GroupBook::adopt_orphans(const crypto::GroupId& group) {
    auto waiting = std::move(orphans_);
    orphans_.clear();
    for (auto& o : waiting) {
        if (crypto::SenderKeyDistribution::decode(o.body.view()).group_id != group) {
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
    if (found == groups_.end()) {
        make_room(orphans_, from, max_orphans_per_sender, max_orphan_chains, [](const Orphan& o) { return o.from; });
        orphans_.push_back(Orphan{from, device, crypto::SecretBytes::copy_of(body)});
        return;
    }
    auto& g = found->second;
    if (!g.state.is_member(from)) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "sender chain from someone not in the group");
    }
    if (!listed_device(from, device)) {
        throw crypto::Error(crypto::ErrorKind::revoked, "sender chain from a device its owner does not list");
    }
    const auto epoch = g.state.epoch();
    if (d.epoch + max_old_epochs < epoch || d.epoch > epoch + 1) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "sender chain of another epoch");
    }
    // One chain per device and epoch: a new one replaces it.
    std::erase_if(g.chains, [&](const Received& r) { return r.device == device && r.chain.epoch() == d.epoch; });
    if (g.chains.size() >= max_chains) throw crypto::Error(crypto::ErrorKind::too_large, "too many sender chains");
    g.chains.push_back(Received{from, device, crypto::SenderChain::from_distribution(d)});
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
    std::optional<crypto::SigningKeyPair> mailbox;
    if (auto current = g.state.mailbox_keys(); current.pub == sealed.mailbox) {
        mailbox = std::move(current);
    }
    for (const auto& old : g.old_mailboxes) {
        if (!mailbox && old.pub == sealed.mailbox) mailbox = old.clone();
    }
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

}  // namespace veil::messenger
