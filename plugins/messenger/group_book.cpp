#include "group_book.hpp"

#include <algorithm>
#include <stdexcept>

namespace veil::messenger {
namespace {

constexpr std::uint8_t kControlVersion = 1;
constexpr std::uint8_t kRecordVersion = 1;
constexpr std::size_t kMaxRecordField = 1 << 20;
constexpr std::size_t kMaxControlBody = 64 * 1024;  // a 1,000-member state is about 33 KiB

crypto::SecretBytes state_control(const crypto::GroupState& state) {
    return encode_group_control(GroupControlKind::state, state.encode().view());
}

crypto::SecretBytes chain_control(const crypto::SenderChain& chain) {
    return encode_group_control(GroupControlKind::chain, chain.distribution().encode().view());
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
        if (kind != static_cast<std::uint8_t>(GroupControlKind::state) &&
            kind != static_cast<std::uint8_t>(GroupControlKind::chain)) {
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

GroupBook::GroupBook(crypto::VeilId self) : self_(self) {}

// Record: u8 1 | var state | u8 request | u8 own? [var chain] | u8 previous own? [key]
// | u16 n (owner | device | var chain) | u8 n (old mailbox seed) | u8 n (var pending state)
std::vector<sdk::storage::BatchOp> GroupBook::save_ops(std::string_view ns) const {
    std::vector<sdk::storage::BatchOp> ops;
    for (const auto& [id, g] : groups_) {
        wire::Writer w;
        w.u8(kRecordVersion).var(g.state.encode().view()).u8(g.request ? 1 : 0);
        w.u8(g.own ? 1 : 0);
        if (g.own) w.var(g.own->serialize().view());
        w.u8(g.own_previous ? 1 : 0);
        if (g.own_previous) w.raw(*g.own_previous);
        w.u16(static_cast<std::uint16_t>(g.chains.size()));
        for (const auto& r : g.chains) w.raw(r.owner.x25519).raw(r.device).var(r.chain.serialize().view());
        w.u8(static_cast<std::uint8_t>(g.old_mailboxes.size()));
        for (const auto& m : g.old_mailboxes) w.raw(m.seed().view());
        w.u8(static_cast<std::uint8_t>(g.pending.size()));
        for (const auto& p : g.pending) w.var(p.encode().view());
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
            Group g{crypto::GroupState::decode(r.var(kMaxRecordField)), false, std::nullopt, std::nullopt, {}, {}, {}};
            g.request = read_flag(r);
            if (read_flag(r)) g.own = crypto::SenderChain::deserialize(r.var(kMaxRecordField));
            if (read_flag(r)) g.own_previous = wire::to_array<32>(r.raw(32));
            const auto chains = r.u16();
            for (std::uint16_t i = 0; i < chains; ++i) {
                crypto::VeilId owner{wire::to_array<32>(r.raw(32))};
                const auto device = wire::to_array<32>(r.raw(32));
                g.chains.push_back(Received{owner, device, crypto::SenderChain::deserialize(r.var(kMaxRecordField))});
            }
            const auto old = r.u8();
            for (std::uint8_t i = 0; i < old; ++i) g.old_mailboxes.push_back(crypto::SigningKeyPair::from_seed(r.raw(32)));
            const auto pending = r.u8();
            for (std::uint8_t i = 0; i < pending; ++i) g.pending.push_back(crypto::GroupState::decode(r.var(kMaxRecordField)));
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
    out.push_back(GroupDelivery{audience(state), state_control(state)});
    groups_.emplace(created, Group{std::move(state), false, std::nullopt, std::nullopt, {}, {}, {}});
    return out;
}

std::vector<GroupDelivery> GroupBook::add(const crypto::Identity& me, const crypto::GroupId& group,
                                          const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_added(me, ids, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    for (auto& d : adopt(g, std::move(next))) out.push_back(std::move(d));
    return out;
}

std::vector<GroupDelivery> GroupBook::remove(const crypto::Identity& me, const crypto::GroupId& group,
                                             const std::vector<crypto::VeilId>& ids, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_removed(me, ids, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    for (auto& d : adopt(g, std::move(next))) out.push_back(std::move(d));
    return out;
}

std::vector<GroupDelivery> GroupBook::make_admin(const crypto::Identity& me, const crypto::GroupId& group,
                                                 const crypto::VeilId& id, std::uint64_t now_ms) {
    auto& g = find(group);
    auto next = g.state.with_role(me, id, crypto::GroupRole::admin, now_ms);
    std::vector<GroupDelivery> out;
    out.push_back(GroupDelivery{audience(next), state_control(next)});
    for (auto& d : adopt(g, std::move(next))) out.push_back(std::move(d));
    return out;
}

// Takes a state that was accepted: a new epoch forgets our chain (a new one goes out with our
// next message) and keeps one previous mailbox to read; chains of removed members go; members
// just added get our current chain (never an earlier iteration).
std::vector<GroupDelivery> GroupBook::adopt(Group& g, crypto::GroupState next) {
    std::vector<GroupDelivery> out;
    const auto added = newcomers(g.state, next);
    if (next.epoch() != g.state.epoch()) {
        g.old_mailboxes.clear();
        g.old_mailboxes.push_back(g.state.mailbox_keys());
        g.own_previous.reset();
        if (g.own) g.own_previous = g.own->signing_key();
        g.own.reset();
    }
    const auto oldest_epoch = next.epoch() - 1;
    std::erase_if(g.chains, [&](const Received& r) {
        return r.chain.epoch() < oldest_epoch || !next.is_member(r.owner);
    });
    g.state = std::move(next);
    if (g.own && !g.request && !added.empty()) out.push_back(GroupDelivery{added, chain_control(*g.own)});
    return out;
}

std::vector<GroupDelivery> GroupBook::apply_pending(Group& g) {
    std::vector<GroupDelivery> out;
    for (bool progress = true; progress;) {
        progress = false;
        std::erase_if(g.pending, [&](const crypto::GroupState& p) { return p.version() <= g.state.version(); });
        for (auto it = g.pending.begin(); it != g.pending.end(); ++it) {
            try {
                auto next = crypto::GroupState::accept_update(g.state, it->clone());
                g.pending.erase(it);
                for (auto& d : adopt(g, std::move(next))) out.push_back(std::move(d));
                progress = true;
                break;
            } catch (const crypto::Error&) {
            }
        }
    }
    return out;
}

std::vector<GroupDelivery> GroupBook::receive_control(const crypto::VeilId& from, const crypto::PublicKey& device,
                                                      wire::ByteView payload, bool from_contact) {
    auto control = decode_group_control(payload);
    if (control.kind == GroupControlKind::chain) {
        take_chain(from, device, control.body.view());
        return {};
    }
    auto incoming = crypto::GroupState::decode(control.body.view());
    auto it = groups_.find(incoming.group_id());
    if (it == groups_.end()) {
        // An invitation is its signer's word, so only the signer may bring it.
        incoming.verify_self();
        if (incoming.signer() != from) {
            throw crypto::Error(crypto::ErrorKind::untrusted_key, "group invitation not sent by its signer");
        }
        if (!incoming.is_member(self_)) {
            throw crypto::Error(crypto::ErrorKind::invalid_argument, "group invitation that does not list us");
        }
        const bool request = !from_contact && from != self_;
        const auto id = incoming.group_id();
        groups_.emplace(id, Group{std::move(incoming), request, std::nullopt, std::nullopt, {}, {}, {}});
        adopt_orphans(id);
        return {};
    }
    auto& g = it->second;
    try {
        auto next = crypto::GroupState::accept_update(g.state, incoming.clone());
        auto out = adopt(g, std::move(next));
        for (auto& d : apply_pending(g)) out.push_back(std::move(d));
        return out;
    } catch (const crypto::Error& e) {
        // A state whose signer became admin in a version we have not seen yet waits for it.
        const bool may_follow_later = e.kind() == crypto::ErrorKind::untrusted_key &&
                                      incoming.group_id() == g.state.group_id() &&
                                      incoming.version() > g.state.version() + 1;
        if (!may_follow_later) throw;
        incoming.verify_self();
        if (g.pending.size() >= max_pending_states) g.pending.erase(g.pending.begin());
        g.pending.push_back(std::move(incoming));
        return {};
    }
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
        if (orphans_.size() >= max_orphan_chains) orphans_.erase(orphans_.begin());
        orphans_.push_back(Orphan{from, device, crypto::SecretBytes::copy_of(body)});
        return;
    }
    auto& g = found->second;
    if (!g.state.is_member(from)) {
        throw crypto::Error(crypto::ErrorKind::untrusted_key, "sender chain from someone not in the group");
    }
    const auto epoch = g.state.epoch();
    if (d.epoch + 1 < epoch || d.epoch > epoch + 1) {
        throw crypto::Error(crypto::ErrorKind::stale_version, "sender chain of another epoch");
    }
    // One chain per device and epoch: a new one replaces it.
    std::erase_if(g.chains, [&](const Received& r) { return r.device == device && r.chain.epoch() == d.epoch; });
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
    if ((g.own && message.signing_key == g.own->signing_key()) || message.signing_key == g.own_previous) {
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

std::size_t GroupBook::chain_count(const crypto::GroupId& group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? 0 : it->second.chains.size();
}

}  // namespace veil::messenger
