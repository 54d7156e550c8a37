#include "veil/crypto/group.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include "internal.hpp"
#include "veil/crypto/hkdf.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t state_version = 3;
constexpr std::uint8_t distribution_version = 1;
constexpr std::uint8_t message_version = 1;
constexpr std::uint8_t chain_version = 1;
constexpr std::string_view id_label = "Veil_GroupId_v1";
constexpr std::string_view state_label = "Veil_GroupState_v3";
constexpr std::string_view message_label = "Veil_SenderKeyMessage_v1";
constexpr std::string_view message_info = "Veil_SenderKey_MessageKey_v1";
constexpr std::size_t aead_tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

GroupId derive_group_id(const PublicKey& creator_key, const std::array<std::uint8_t, 16>& nonce) {
    wire::Writer w;
    w.str(id_label).raw(creator_key).raw(nonce);
    GroupId id{};
    crypto_generichash(id.data(), id.size(), w.bytes().data(), w.bytes().size(), nullptr, 0);
    return id;
}

// KDF_CK of the Double Ratchet: MK = HMAC(CK, 0x01), CK' = HMAC(CK, 0x02).
void step_chain(std::uint8_t* ck, std::uint8_t* mk) {
    const std::uint8_t one = 0x01;
    const std::uint8_t two = 0x02;
    crypto_auth_hmacsha256(mk, &one, 1, ck);
    crypto_auth_hmacsha256(ck, &two, 1, ck);
}

// Message key -> 32-byte AEAD key || 24-byte nonce, wiped when it goes.
struct MessageKeys {
    std::uint8_t bytes[56];
    explicit MessageKeys(const std::uint8_t* mk) { detail::hkdf_into(ByteView{mk, 32}, {}, label(message_info), bytes); }
    ~MessageKeys() { sodium_memzero(bytes, sizeof bytes); }
};

Bytes message_signed_part(const SenderKeyMessage& m) {
    auto w = detail::signed_writer(message_label);
    w.raw(m.group_id).u64(m.epoch).raw(m.signing_key).u32(m.iteration).var(m.ciphertext);
    return w.take();
}

std::vector<GroupMember> sorted(std::vector<GroupMember> members) {
    std::sort(members.begin(), members.end(),
              [](const GroupMember& a, const GroupMember& b) { return a.id < b.id; });
    return members;
}

}  // namespace

std::string group_id_str(const GroupId& id) { return "03" + wire::to_hex(id); }

GroupId parse_group_id(std::string_view text) {
    if (text.size() != group_id_chars) {
        throw Error(ErrorKind::invalid_id, "group ID must be 66 characters, got " + std::to_string(text.size()));
    }
    if (text.substr(0, 2) != "03") throw Error(ErrorKind::invalid_id, "group ID must start with \"03\"");
    try {
        return wire::to_array<32>(wire::from_hex(text.substr(2)));
    } catch (const wire::DecodeError&) {
        throw Error(ErrorKind::invalid_id, "group ID has a non-hex character");
    }
}

// ---- GroupState ----

GroupState GroupState::create(const Identity& creator, std::string_view name,
                              const std::vector<VeilId>& members, std::uint64_t now_ms) {
    ensure_sodium();
    GroupState s;
    s.creator_key_ = creator.signing_key();
    randombytes_buf(s.nonce_.data(), s.nonce_.size());
    s.group_id_ = derive_group_id(s.creator_key_, s.nonce_);
    s.name_ = std::string(name);
    std::vector<GroupMember> list{GroupMember{creator.veil_id(), GroupRole::admin}};
    for (const auto& id : members) list.push_back(GroupMember{id, GroupRole::member});
    // version 0 stands before the genesis; the creator is its admin for signed_next's check.
    s.members_ = {GroupMember{creator.veil_id(), GroupRole::admin}};
    return s.signed_next(creator, std::move(list), SecretBytes::random(32), now_ms);
}

GroupState GroupState::signed_next(const Identity& admin, std::vector<GroupMember> members,
                                   SecretBytes new_seed, std::uint64_t now_ms) const {
    if (!is_admin(admin.veil_id())) {
        throw Error(ErrorKind::untrusted_key, "only an admin of the group can change it");
    }
    GroupState next = clone();
    // The genesis (version 1) follows nothing: version 0 is the unsigned starting point create signs from.
    next.previous_ = version_ == 0 ? Digest{} : digest();
    next.version_ = version_ + 1;
    next.members_ = sorted(std::move(members));
    next.issued_ms_ = std::max(now_ms, issued_ms_);
    if (!new_seed.empty()) {
        next.epoch_ = epoch_ + 1;
        next.mailbox_seed_ = std::move(new_seed);
        next.mailbox_key_ = SigningKeyPair::from_seed(next.mailbox_seed_.view()).pub;
    }
    next.check_members();
    next.signer_key_ = admin.signing_key();
    next.signature_ = admin.sign(next.signed_part());
    return next;
}

GroupState GroupState::with_added(const Identity& admin, const std::vector<VeilId>& ids,
                                  std::uint64_t now_ms) const {
    auto members = members_;
    for (const auto& id : ids) {
        if (is_member(id)) throw Error(ErrorKind::invalid_argument, id.str() + " is already a member");
        members.push_back(GroupMember{id, GroupRole::member});
    }
    return signed_next(admin, std::move(members), SecretBytes::random(32), now_ms);
}

GroupState GroupState::with_removed(const Identity& admin, const std::vector<VeilId>& ids,
                                    std::uint64_t now_ms) const {
    auto members = members_;
    for (const auto& id : ids) {
        if (id == admin.veil_id()) {
            throw Error(ErrorKind::invalid_argument, "an admin cannot remove itself (it would hold the new mailbox)");
        }
        auto it = std::find_if(members.begin(), members.end(), [&](const GroupMember& m) { return m.id == id; });
        if (it == members.end()) throw Error(ErrorKind::invalid_argument, id.str() + " is not a member");
        members.erase(it);
    }
    return signed_next(admin, std::move(members), SecretBytes::random(32), now_ms);
}

GroupState GroupState::with_rotated(const Identity& admin) const {
    // A fresh random seed: a seed derived from anything a revoked device holds (the group's
    // ID and version, or the first admin's own identity) would let it find the new mailbox.
    return signed_next(admin, members_, SecretBytes::random(32), issued_ms_);
}

GroupState GroupState::with_role(const Identity& admin, const VeilId& id, GroupRole role,
                                 std::uint64_t now_ms) const {
    auto members = members_;
    auto it = std::find_if(members.begin(), members.end(), [&](const GroupMember& m) { return m.id == id; });
    if (it == members.end()) throw Error(ErrorKind::invalid_argument, id.str() + " is not a member");
    it->role = role;
    return signed_next(admin, std::move(members), SecretBytes(), now_ms);
}

void GroupState::check_members() const {
    if (members_.size() > max_members) {
        throw Error(ErrorKind::too_large, "a group holds at most 1000 members");
    }
    if (name_.size() > max_name_bytes) throw Error(ErrorKind::too_large, "group name above 128 bytes");
    std::set<VeilId> seen;
    bool has_admin = false;
    for (const auto& m : members_) {
        if (!seen.insert(m.id).second) throw Error(ErrorKind::invalid_argument, "a member is listed twice");
        if (m.role != GroupRole::member && m.role != GroupRole::admin) {
            throw Error(ErrorKind::invalid_argument, "unknown member role");
        }
        has_admin = has_admin || m.role == GroupRole::admin;
    }
    if (!has_admin) throw Error(ErrorKind::invalid_argument, "a group needs at least one admin");
}

bool GroupState::same_members(const GroupState& other) const {
    if (members_.size() != other.members_.size()) return false;
    return std::all_of(members_.begin(), members_.end(), [&](const GroupMember& m) { return other.is_member(m.id); });
}

void GroupState::verify_self() const {
    if (version_ == 0) throw Error(ErrorKind::bad_signature, "group state is unsigned (version 0)");
    // One change at a time from version 1 and epoch 1: the epoch never passes the version.
    if (version_ > max_version || epoch_ == 0 || epoch_ > version_) {
        throw Error(ErrorKind::too_large, "group state version or epoch out of range");
    }
    if (derive_group_id(creator_key_, nonce_) != group_id_) {
        throw Error(ErrorKind::untrusted_key, "group ID does not belong to its creator");
    }
    if (version_ == 1 && signer_key_ != creator_key_) {
        throw Error(ErrorKind::untrusted_key, "the first group state is signed by its creator only");
    }
    if (version_ == 1 && previous_ != Digest{}) {
        throw Error(ErrorKind::untrusted_key, "the first group state follows no other");
    }
    check_members();
    const auto signer_id = veil_id_of(signer_key_);
    if (!is_admin(signer_id)) throw Error(ErrorKind::untrusted_key, "group state signed by a non-admin");
    verify_identity_signature(signer_id, signer_key_, signed_part(), signature_);
}

GroupState GroupState::accept_update(const GroupState& current, GroupState incoming) {
    incoming.verify_self();
    if (incoming.group_id_ != current.group_id_) {
        throw Error(ErrorKind::untrusted_key, "group state of another group");
    }
    if (incoming.version_ <= current.version_) {
        throw Error(ErrorKind::stale_version, "group state version " + std::to_string(incoming.version_) +
                                                  " is not newer than " + std::to_string(current.version_));
    }
    // Exactly the next version: an admin removed in a version this member missed cannot sign a
    // later one over it, and nobody jumps to the top of the range.
    if (incoming.version_ != current.version_ + 1) {
        throw Error(ErrorKind::too_many_skipped, "group state version " + std::to_string(incoming.version_) +
                                                     " does not follow " + std::to_string(current.version_));
    }
    // Bound to its predecessor: a state of one branch of a fork never applies on another.
    if (incoming.previous_ != current.digest()) {
        throw Error(ErrorKind::untrusted_key, "group state does not follow the state held (another branch)");
    }
    // The signer must have been an admin before this change: nobody makes themselves admin.
    if (!current.is_admin(incoming.signer())) {
        throw Error(ErrorKind::untrusted_key, "group change signed by someone who is not an admin");
    }
    const bool rotates = incoming.epoch_ != current.epoch_;
    if (rotates != (incoming.mailbox_key_ != current.mailbox_key_) ||
        (rotates && incoming.epoch_ != current.epoch_ + 1)) {
        throw Error(ErrorKind::invalid_argument, "a new epoch goes with a new mailbox, one epoch at a time");
    }
    // Any change of members (a removal, or a newcomer who must not read the current epoch) rotates.
    if (!rotates && !incoming.same_members(current)) {
        throw Error(ErrorKind::invalid_argument, "a change of members must move the group to a new epoch and mailbox");
    }
    return incoming;
}

GroupState GroupState::accept_history(std::vector<GroupState> history) {
    if (history.empty()) throw Error(ErrorKind::invalid_argument, "empty group history");
    if (history.size() > max_history) throw Error(ErrorKind::too_large, "group history above 1000 versions");
    if (!history.back().has_seed()) throw Error(ErrorKind::invalid_argument, "group history without the mailbox seed");
    // The genesis is the creator's (the ID is bound to it); every later state follows it.
    if (history.front().version_ != 1) throw Error(ErrorKind::untrusted_key, "group history does not start at version 1");
    history.front().verify_self();
    for (std::size_t i = 1; i < history.size(); ++i) {
        const auto& before = history[i - 1];
        history[i] = history[i].version_ == before.version_ + 1 ? accept_update(before, std::move(history[i]))
                                                                 : accept_jump(before, std::move(history[i]));
    }
    return std::move(history.back());
}

GroupState GroupState::accept_jump(const GroupState& earlier, GroupState incoming) {
    incoming.verify_self();
    if (incoming.group_id_ != earlier.group_id_) throw Error(ErrorKind::untrusted_key, "group state of another group");
    if (incoming.version_ <= earlier.version_) {
        throw Error(ErrorKind::stale_version, "group history does not rise in version");
    }
    // Only versions that kept the admins are left out of a line, so the signer was an admin of
    // the state before it exactly when it is one of `earlier`.
    if (!earlier.is_admin(incoming.signer())) {
        throw Error(ErrorKind::untrusted_key, "group change signed by someone who is not an admin");
    }
    if (incoming.epoch_ < earlier.epoch_ ||
        (incoming.epoch_ == earlier.epoch_ && incoming.mailbox_key_ != earlier.mailbox_key_)) {
        throw Error(ErrorKind::invalid_argument, "a new epoch goes with a new mailbox, one epoch at a time");
    }
    // Members change only with a new epoch, also across the versions left out.
    if (incoming.epoch_ == earlier.epoch_ && !incoming.same_members(earlier)) {
        throw Error(ErrorKind::invalid_argument, "a change of members must move the group to a new epoch and mailbox");
    }
    return incoming;
}

bool GroupState::same_admins(const GroupState& other) const {
    auto admins = [](const GroupState& s) {
        std::vector<VeilId> out;
        for (const auto& m : s.members_) {
            if (m.role == GroupRole::admin) out.push_back(m.id);
        }
        return out;  // members_ are sorted
    };
    return admins(*this) == admins(other);
}

bool GroupState::prefers(const GroupState& base, const std::vector<const GroupState*>& ours,
                         const std::vector<const GroupState*>& theirs) {
    if (ours.empty() || theirs.empty()) return ours.empty() && !theirs.empty();
    // Only the first state of each branch counts, by a key of its own: a total order, so every
    // device keeps the same branch whatever came first, and no length or version (which a
    // removed admin can make up) decides.
    return fork_rank(base, *theirs.front()) < fork_rank(base, *ours.front());
}

std::tuple<int, int, VeilId, Signature> GroupState::fork_rank(const GroupState& base, const GroupState& first) {
    const bool drops_admin = std::any_of(base.members_.begin(), base.members_.end(), [&](const GroupMember& m) {
        return m.role == GroupRole::admin && !first.is_admin(m.id);
    });
    const bool new_epoch = first.epoch_ != base.epoch_;
    // A removal (of an admin first) or a rotation beats a change that keeps the mailbox: a role
    // change raced by a removal is redone over the winner, a removal never lost.
    return {drops_admin ? 0 : 1, new_epoch ? 0 : 1, first.signer(), first.signature_};
}

Digest GroupState::digest() const {
    auto part = signed_part();
    part.insert(part.end(), signature_.begin(), signature_.end());
    Digest d{};
    crypto_generichash(d.data(), d.size(), part.data(), part.size(), nullptr, 0);
    return d;
}

const GroupMember* GroupState::find(const VeilId& id) const {
    for (const auto& m : members_) {
        if (m.id == id) return &m;
    }
    return nullptr;
}

bool GroupState::is_admin(const VeilId& id) const {
    const auto* m = find(id);
    return m != nullptr && m->role == GroupRole::admin;
}

SigningKeyPair GroupState::mailbox_keys() const {
    if (!has_seed()) throw Error(ErrorKind::no_session, "group state without its mailbox seed");
    return SigningKeyPair::from_seed(mailbox_seed_.view());
}

GroupState GroupState::clone() const {
    GroupState s;
    s.group_id_ = group_id_;
    s.creator_key_ = creator_key_;
    s.nonce_ = nonce_;
    s.version_ = version_;
    s.epoch_ = epoch_;
    s.name_ = name_;
    s.issued_ms_ = issued_ms_;
    s.members_ = members_;
    s.mailbox_key_ = mailbox_key_;
    s.mailbox_seed_ = mailbox_seed_.clone();
    s.previous_ = previous_;
    s.signer_key_ = signer_key_;
    s.signature_ = signature_;
    return s;
}

GroupState GroupState::public_copy() const {
    auto s = clone();
    s.mailbox_seed_ = SecretBytes();
    return s;
}

Bytes GroupState::signed_part() const {
    auto w = detail::signed_writer(state_label);
    w.raw(group_id_).raw(creator_key_).raw(nonce_).raw(previous_).u64(version_).u64(epoch_).str(name_).u64(issued_ms_);
    w.u16(static_cast<std::uint16_t>(members_.size()));
    for (const auto& m : members_) w.raw(m.id.x25519).u8(static_cast<std::uint8_t>(m.role));
    w.raw(mailbox_key_);
    return w.take();
}

SecretBytes GroupState::encode() const {
    if (members_.size() > max_members) throw Error(ErrorKind::too_large, "a group holds at most 1000 members");
    SecretBytes out(1 + 32 + 32 + 16 + 32 + 8 + 8 + 4 + name_.size() + 8 + 2 + 33 * members_.size() + 32 +
                    32 + 64 + 1 + mailbox_seed_.size());
    detail::SecretWriter w(out);
    w.u8(state_version).raw(group_id_).raw(creator_key_).raw(nonce_).raw(previous_).u64(version_).u64(epoch_);
    w.var(ByteView{reinterpret_cast<const std::uint8_t*>(name_.data()), name_.size()}).u64(issued_ms_);
    const auto n = static_cast<std::uint16_t>(members_.size());
    w.u8(static_cast<std::uint8_t>(n >> 8)).u8(static_cast<std::uint8_t>(n));
    for (const auto& m : members_) w.raw(m.id.x25519).u8(static_cast<std::uint8_t>(m.role));
    w.raw(mailbox_key_).raw(signer_key_).raw(signature_).u8(has_seed() ? 1 : 0).raw(mailbox_seed_.view());
    return out;
}

GroupState GroupState::decode(ByteView bytes) {
    return detail::decoding("group state", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, state_version, "group state");
        GroupState s;
        s.group_id_ = detail::read_key(r);
        s.creator_key_ = detail::read_key(r);
        s.nonce_ = wire::to_array<16>(r.raw(16));
        s.previous_ = wire::to_array<32>(r.raw(32));
        s.version_ = r.u64();
        s.epoch_ = r.u64();
        s.name_ = r.str(max_name_bytes);
        s.issued_ms_ = r.u64();
        const auto n = r.u16();
        if (n > max_members) throw wire::DecodeError("more than 1000 members");
        s.members_.reserve(n);
        for (std::uint16_t i = 0; i < n; ++i) {
            GroupMember m;
            m.id.x25519 = detail::read_key(r);
            m.role = static_cast<GroupRole>(r.u8());
            s.members_.push_back(m);
        }
        s.mailbox_key_ = detail::read_key(r);
        s.signer_key_ = detail::read_key(r);
        s.signature_ = detail::read_signature(r);
        const auto with_seed = r.u8();
        if (with_seed > 1) throw wire::DecodeError("bad seed flag");
        if (with_seed == 1) {
            s.mailbox_seed_ = SecretBytes::copy_of(r.raw(32));
            if (SigningKeyPair::from_seed(s.mailbox_seed_.view()).pub != s.mailbox_key_) {
                throw wire::DecodeError("mailbox seed does not match the signed mailbox key");
            }
        }
        r.expect_done();
        return s;
    });
}

// ---- SenderKeyDistribution and SenderKeyMessage ----

SecretBytes SenderKeyDistribution::encode() const {
    SecretBytes out(encoded_bytes);
    detail::SecretWriter w(out);
    w.u8(distribution_version).raw(group_id).u64(epoch).raw(signing_key).u32(iteration).raw(chain_key.view());
    return out;
}

SenderKeyDistribution SenderKeyDistribution::decode(ByteView bytes) {
    return detail::decoding("sender key distribution", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, distribution_version, "sender key distribution");
        SenderKeyDistribution d;
        d.group_id = detail::read_key(r);
        d.epoch = r.u64();
        d.signing_key = detail::read_key(r);
        d.iteration = r.u32();
        d.chain_key = SecretBytes::copy_of(r.raw(32));
        r.expect_done();
        return d;
    });
}

Bytes SenderKeyMessage::encode() const {
    wire::Writer w;
    w.u8(message_version).raw(group_id).u64(epoch).raw(signing_key).u32(iteration).var(ciphertext).raw(signature);
    return w.take();
}

SenderKeyMessage SenderKeyMessage::decode(ByteView bytes) {
    return detail::decoding("sender key message", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, message_version, "sender key message");
        SenderKeyMessage m;
        m.group_id = detail::read_key(r);
        m.epoch = r.u64();
        m.signing_key = detail::read_key(r);
        m.iteration = r.u32();
        auto ct = r.var(max_ciphertext_bytes);
        if (ct.size() < aead_tag) throw wire::DecodeError("ciphertext shorter than its tag");
        m.ciphertext.assign(ct.begin(), ct.end());
        m.signature = detail::read_signature(r);
        r.expect_done();
        return m;
    });
}

// ---- SenderChain ----

SenderChain SenderChain::create(const GroupId& group_id, std::uint64_t epoch) {
    ensure_sodium();
    SenderChain c;
    c.group_id_ = group_id;
    c.epoch_ = epoch;
    c.signer_ = SigningKeyPair::generate();
    c.signing_key_ = c.signer_.pub;
    c.chain_key_ = SecretBytes::random(32);
    return c;
}

SenderChain SenderChain::from_distribution(const SenderKeyDistribution& d) {
    if (d.chain_key.size() != 32) throw Error(ErrorKind::invalid_argument, "chain key must be 32 bytes");
    if (d.iteration == UINT32_MAX) throw Error(ErrorKind::too_large, "sender chain exhausted");
    SenderChain c;
    c.group_id_ = d.group_id;
    c.epoch_ = d.epoch;
    c.signing_key_ = d.signing_key;
    c.chain_key_ = d.chain_key.clone();
    c.iteration_ = d.iteration;
    return c;
}

SenderKeyDistribution SenderChain::distribution() const {
    SenderKeyDistribution d;
    d.group_id = group_id_;
    d.epoch = epoch_;
    d.signing_key = signing_key_;
    d.iteration = iteration_;
    d.chain_key = chain_key_.clone();
    return d;
}

Bytes SenderChain::associated_data(std::uint32_t iteration) const {
    wire::Writer w;
    w.raw(group_id_).u64(epoch_).raw(signing_key_).u32(iteration);
    return w.take();
}

SenderKeyMessage SenderChain::encrypt(ByteView plaintext) {
    if (!can_send()) throw Error(ErrorKind::no_session, "this sender chain is another device's");
    if (iteration_ == UINT32_MAX) throw Error(ErrorKind::too_large, "sender chain exhausted");
    if (plaintext.size() + aead_tag > SenderKeyMessage::max_ciphertext_bytes) {
        throw Error(ErrorKind::too_large, "group message above 1 MiB");
    }
    std::uint8_t mk[32];
    step_chain(chain_key_.data(), mk);
    MessageKeys k(mk);
    sodium_memzero(mk, sizeof mk);
    SenderKeyMessage m;
    m.group_id = group_id_;
    m.epoch = epoch_;
    m.signing_key = signing_key_;
    m.iteration = iteration_++;
    const Bytes ad = associated_data(m.iteration);
    m.ciphertext.resize(plaintext.size() + aead_tag);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(m.ciphertext.data(), &len, plaintext.data(), plaintext.size(),
                                               ad.data(), ad.size(), nullptr, k.bytes + 32, k.bytes);
    m.signature = signer_.sign(message_signed_part(m));
    return m;
}

Bytes SenderChain::decrypt(const SenderKeyMessage& message) {
    if (message.group_id != group_id_ || message.epoch != epoch_ || message.signing_key != signing_key_) {
        throw Error(ErrorKind::untrusted_key, "group message of another chain");
    }
    // The signature comes first: a message that is not the chain owner's moves nothing.
    if (!verify_signature(signing_key_, message_signed_part(message), message.signature)) {
        throw Error(ErrorKind::bad_signature, "group message signature does not verify");
    }
    const std::uint32_t target = message.iteration;
    // The last iteration is never sent (encrypt stops before it): the next one would wrap to 0.
    if (target == UINT32_MAX) throw Error(ErrorKind::too_large, "group message past the chain's last iteration");
    const bool late = target < iteration_;  // its key was kept when a later message came first
    std::size_t kept = skipped_.size();
    std::uint32_t gap = 0;
    if (late) {
        kept = static_cast<std::size_t>(std::find(skipped_.begin(), skipped_.end(), target) - skipped_.begin());
        if (kept == skipped_.size()) {
            throw Error(ErrorKind::duplicate_message, "group message key already used or no longer kept");
        }
    } else {
        gap = target - iteration_;
        if (gap > max_skip) throw Error(ErrorKind::too_many_skipped, "group message skips more than 1000 keys");
    }
    // Trial run on copies: the chain changes only once the message authenticates.
    SecretBytes ck = chain_key_.clone();
    SecretBytes gap_keys(std::size_t{gap} * 32);
    std::uint8_t mk[32];
    if (late) {
        std::memcpy(mk, skipped_keys_.data() + kept * 32, 32);
    } else {
        for (std::uint32_t i = 0; i < gap; ++i) step_chain(ck.data(), gap_keys.data() + std::size_t{i} * 32);
        step_chain(ck.data(), mk);
    }
    MessageKeys k(mk);
    sodium_memzero(mk, sizeof mk);
    const Bytes ad = associated_data(target);
    Bytes plaintext(message.ciphertext.size() - aead_tag);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext.data(), &len, nullptr, message.ciphertext.data(),
                                                   message.ciphertext.size(), ad.data(), ad.size(),
                                                   k.bytes + 32, k.bytes) != 0) {
        throw Error(ErrorKind::decrypt_failed, "group message does not authenticate");
    }
    // Commit: the used key leaves, the gap's keys join, the oldest go past the bound.
    const std::size_t total = skipped_.size() - (late ? 1 : 0) + gap;
    const std::size_t drop = total > max_skipped_keys ? total - max_skipped_keys : 0;
    std::vector<std::uint32_t> next_iters;
    SecretBytes next_keys((total - drop) * 32);
    std::size_t index = 0;
    auto keep = [&](std::uint32_t iter, const std::uint8_t* key) {
        if (index++ < drop) return;
        std::memcpy(next_keys.data() + next_iters.size() * 32, key, 32);
        next_iters.push_back(iter);
    };
    for (std::size_t i = 0; i < skipped_.size(); ++i) {
        if (i != kept) keep(skipped_[i], skipped_keys_.data() + i * 32);
    }
    for (std::uint32_t i = 0; i < gap; ++i) keep(iteration_ + i, gap_keys.data() + std::size_t{i} * 32);
    skipped_ = std::move(next_iters);
    skipped_keys_ = std::move(next_keys);
    if (!late) {
        chain_key_ = std::move(ck);
        iteration_ = target + 1;
    }
    plaintext.resize(len);
    return plaintext;
}

SecretBytes SenderChain::serialize() const {
    const SecretBytes seed = can_send() ? signer_.seed() : SecretBytes();
    SecretBytes out(1 + 32 + 8 + 32 + 1 + seed.size() + 32 + 4 + 4 + 36 * skipped_.size());
    detail::SecretWriter w(out);
    w.u8(chain_version).raw(group_id_).u64(epoch_).raw(signing_key_);
    w.u8(can_send() ? 1 : 0).raw(seed.view()).raw(chain_key_.view()).u32(iteration_);
    w.u32(static_cast<std::uint32_t>(skipped_.size()));
    for (std::size_t i = 0; i < skipped_.size(); ++i) {
        w.u32(skipped_[i]).raw(ByteView{skipped_keys_.data() + i * 32, 32});
    }
    return out;
}

SenderChain SenderChain::deserialize(ByteView bytes) {
    return detail::decoding("sender chain", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, chain_version, "sender chain");
        SenderChain c;
        c.group_id_ = detail::read_key(r);
        c.epoch_ = r.u64();
        c.signing_key_ = detail::read_key(r);
        const auto own = r.u8();
        if (own > 1) throw wire::DecodeError("bad own-chain flag");
        if (own == 1) {
            c.signer_ = SigningKeyPair::from_seed(r.raw(32));
            if (c.signer_.pub != c.signing_key_) {
                throw wire::DecodeError("signing seed does not match the chain's key");
            }
        }
        c.chain_key_ = SecretBytes::copy_of(r.raw(32));
        c.iteration_ = r.u32();
        const auto n = r.u32();
        if (n > max_skipped_keys) throw wire::DecodeError("too many skipped keys");
        c.skipped_keys_ = SecretBytes(std::size_t{n} * 32);
        for (std::uint32_t i = 0; i < n; ++i) {
            const auto iter = r.u32();
            if (iter >= c.iteration_) throw wire::DecodeError("skipped key not behind the chain");
            c.skipped_.push_back(iter);
            auto key = r.raw(32);
            std::memcpy(c.skipped_keys_.data() + std::size_t{i} * 32, key.data(), 32);
        }
        r.expect_done();
        return c;
    });
}

}  // namespace veil::crypto
