#include "account.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

#include "veil/crypto/keys.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/crypto/envelope.hpp"
#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

constexpr std::uint64_t kDayMs = 24ULL * 3600 * 1000;
constexpr std::uint64_t kSignedPreKeyLifetimeMs = 30 * kDayMs;
constexpr std::uint64_t kSignedPreKeyRotateMs = 7 * kDayMs;
constexpr std::size_t kOneTimeLow = 10;       // top up below this many
constexpr std::size_t kOneTimeBatch = 40;     // keys made per top-up, and published per bundle
constexpr std::size_t kSeenIdsKept = 4096;    // ids remembered to drop duplicate copies
constexpr std::uint32_t kPageCount = 100;

wire::Bytes bytes_of(const crypto::SecretBytes& s) { return {s.view().begin(), s.view().end()}; }

std::string key(std::string_view name) { return std::string(kStatePrefix) + std::string(name); }

const wire::Bytes& need(const std::map<std::string, wire::Bytes>& m, std::string_view name) {
    auto it = m.find(key(name));
    if (it == m.end()) throw std::runtime_error("messenger state is missing " + std::string(name));
    return it->second;
}

crypto::SigningKeyPair signing_key_of(const crypto::DeviceKeys& device) {
    auto state = device.serialize();  // version byte, then the 32-byte Ed25519 seed
    return crypto::SigningKeyPair::from_seed(state.view().subspan(1));
}

// A copy of the bundle offering one random one-time key, so that two senders rarely pick the same.
crypto::PreKeyBundle with_one_random_key(const crypto::PreKeyBundle& b) {
    crypto::PreKeyBundle out = b;
    out.one_time_prekeys.clear();
    if (!b.one_time_prekeys.empty()) {
        auto i = randombytes_uniform(static_cast<std::uint32_t>(b.one_time_prekeys.size()));
        out.one_time_prekeys.push_back(b.one_time_prekeys[i]);
    }
    return out;
}

}  // namespace

Account::Account(crypto::Identity identity, std::unique_ptr<crypto::DeviceKeys> device)
    : identity_(std::move(identity)),
      device_(std::move(device)),
      prekeys_(std::make_unique<crypto::PreKeyStore>()),
      sessions_(std::make_unique<crypto::SessionManager>(*device_, identity_.signing_key(), *prekeys_)) {}

Account::~Account() = default;

Account Account::create(crypto::Identity identity, const std::optional<crypto::DeviceList>& existing,
                        std::uint64_t now_ms) {
    // A contact keeps sessions with 16 devices of one identity at most (the oldest it met): a
    // 17th would be unreachable without anyone knowing, so the owner is told here instead.
    if (existing) {
        auto active = std::count_if(existing->entries().begin(), existing->entries().end(),
                                    [](const auto& e) { return !e.revoked(); });
        if (static_cast<std::size_t>(active) >= crypto::SessionManager::max_devices_per_peer) {
            throw std::runtime_error("this identity already has " + std::to_string(active) +
                                     " active devices, the most a contact keeps sessions with: revoke one first "
                                     "(veil devices revoke KEY on one of them)");
        }
    }
    Account a(std::move(identity), std::make_unique<crypto::DeviceKeys>(crypto::DeviceKeys::generate()));
    a.certificate_ = crypto::DeviceCertificate::issue(a.identity_, *a.device_, now_ms);
    const crypto::DeviceList base = existing.value_or(crypto::DeviceList{});
    // A device added to a list found (a restore) signs found+1: a time floor would lift a stale
    // list a hostile member served above every version contacts hold, and make its revoked
    // devices active again. Only a new chain (a new identity, or a restore for which every
    // member of the swarm agreed there is no list: all expired after 14 days) starts at the time
    // in ms, above any version contacts may still hold from before.
    a.list_ = base.with_device(a.identity_, *a.device_, now_ms, existing ? 0 : now_ms);
    return a;
}

Account Account::load(const std::vector<sdk::storage::Entry>& entries) {
    std::map<std::string, wire::Bytes> m;
    for (const auto& e : entries) m[e.key] = e.value;
    try {
        auto seed = crypto::SecretBytes::copy_of(wire::ByteView(need(m, "identity")));
        Account a(crypto::Identity::from_seed(seed),
                  std::make_unique<crypto::DeviceKeys>(crypto::DeviceKeys::deserialize(need(m, "device"))));
        *a.prekeys_ = crypto::PreKeyStore::deserialize(need(m, "prekeys"));
        a.sessions_->load(need(m, "sessions"));
        a.certificate_ = crypto::DeviceCertificate::decode(need(m, "certificate"));
        a.list_ = crypto::DeviceList::decode(need(m, "device_list"));
        if (auto it = m.find(key("peer_lists")); it != m.end()) a.load_peer_lists(it->second);
        if (auto it = m.find(key("strangers")); it != m.end()) a.strangers_ = StrangerSessions::decode(it->second);
        wire::Reader r(need(m, "meta"));
        a.signed_rotated_ms_ = r.u64();
        a.published_ms_ = r.u64();
        a.dirty_ = r.u8() != 0;
        auto n = r.u32();
        if (n > kSeenIdsKept) throw wire::DecodeError("too many ids");
        for (std::uint32_t i = 0; i < n; ++i) {
            MessageId id{};
            auto b = r.raw(id.size());
            std::copy(b.begin(), b.end(), id.begin());
            a.seen_.push_back(id);
        }
        r.expect_done();
        return a;
    } catch (const crypto::Error& e) {
        throw std::runtime_error(std::string("messenger state is damaged: ") + e.what());
    } catch (const wire::DecodeError& e) {
        throw std::runtime_error(std::string("messenger state is damaged: ") + e.what());
    }
}

void Account::load_peer_lists(wire::ByteView bytes) {
    // Damaged peer lists cost those lists (read again from the network), never the account.
    try {
        peers_ = PeerLists::decode(bytes, &skipped_peer_lists_);
    } catch (const wire::DecodeError&) {
        peers_ = PeerLists{};
        skipped_peer_lists_ = std::max<std::size_t>(skipped_peer_lists_, 1);
    }
}

std::vector<sdk::storage::BatchOp> Account::save_ops() const {
    using Op = sdk::storage::BatchOp;
    auto put = [](std::string_view name, wire::Bytes v) {
        return Op{Op::Kind::put, std::string(kStorageNs), key(name), std::move(v)};
    };
    wire::Writer meta;
    meta.u64(signed_rotated_ms_).u64(published_ms_).u8(dirty_ ? 1 : 0).u32(static_cast<std::uint32_t>(seen_.size()));
    for (const auto& id : seen_) meta.raw(id);
    std::vector<Op> ops;
    ops.push_back(put("identity", bytes_of(identity_.seed())));
    ops.push_back(put("device", bytes_of(device_->serialize())));
    ops.push_back(put("prekeys", bytes_of(prekeys_->serialize())));
    ops.push_back(put("sessions", bytes_of(sessions_->serialize())));
    ops.push_back(put("certificate", certificate_.encode()));
    ops.push_back(put("device_list", list_.encode()));
    ops.push_back(put("peer_lists", peers_.encode()));
    ops.push_back(put("strangers", strangers_.encode()));
    ops.push_back(put("meta", meta.take()));
    return ops;
}

std::vector<proto::node::StoreRequest> Account::publish_requests(std::uint64_t now_ms) {
    if (signed_rotated_ms_ == 0 || now_ms >= signed_rotated_ms_ + kSignedPreKeyRotateMs) {
        prekeys_->rotate_signed_prekey(*device_, identity_.signing_key(), now_ms, kSignedPreKeyLifetimeMs);
        signed_rotated_ms_ = now_ms;
        dirty_ = true;
    }
    if (prekeys_->one_time_count() < kOneTimeLow) {
        (void)prekeys_->generate_one_time_prekeys(*device_, identity_.signing_key(), kOneTimeBatch);
        dirty_ = true;
    }
    prekeys_->expire(now_ms);
    auto bundle = prekeys_->bundle(certificate_, kOneTimeBatch);
    // Only the identity may write its public namespaces: both stores carry its signature (and a
    // re-store of unchanged bytes so signed extends their expiry on the nodes).
    auto identity_key = crypto::SigningKeyPair::from_seed(identity_.seed().view());
    std::vector<proto::node::StoreRequest> out;
    for (auto [ns, data] : {std::pair{kDeviceListNamespace, list_.encode()}, std::pair{kBundleNamespace, bundle.encode()}}) {
        proto::node::RequestBody body = proto::node::StoreRequest{id().x25519, ns, kPublishTtlMs, std::move(data), {}};
        proto::node::sign_owner_request(body, identity_key, now_ms);
        out.push_back(std::get<proto::node::StoreRequest>(std::move(body)));
    }
    return out;
}

bool Account::needs_publish(std::uint64_t now_ms) const {
    return dirty_ || now_ms >= published_ms_ + kRepublishAfterMs;
}

void Account::mark_published(std::uint64_t now_ms) {
    published_ms_ = now_ms;
    dirty_ = false;
}

namespace {

// True when `a` names every device `b` names, and revoked wherever `b` revokes it.
bool covers(const crypto::DeviceList& a, const crypto::DeviceList& b) {
    return std::all_of(b.entries().begin(), b.entries().end(), [&](const auto& e) {
        const auto* in_a = a.find(e.signing_key);
        return in_a && (!e.revoked() || in_a->revoked());
    });
}

}  // namespace

void Account::adopt_device_list(const crypto::DeviceList& list) {
    if (list.encode() == list_.encode()) return;
    try {
        list.verify(id());
    } catch (const crypto::Error&) {
        return;
    }
    // Every valid list of our identity is joined, also one that does not name this device (a
    // device restored from an old backup signed its own next list: a revocation in the other
    // must not be lost). Only a list that revokes this device is not ours to build on: it
    // keeps its own list and learns it when contacts refuse it.
    if (const auto* me = list.find(device_->signing_key()); me && me->revoked()) return;
    crypto::DeviceList next;
    if (list.version() > list_.version() && covers(list, list_)) {
        next = list;  // the ordinary case: another device changed the list since
    } else if (list.version() < list_.version() && covers(list_, list)) {
        return;  // an older list ours already supersedes
    } else {
        // A fork: each side names what the other lacks, or the same version says something else
        // (this device restored from an old backup signed its own next list). Sign the union one
        // above both, so no revocation of either side is lost and readers of either take it.
        try {
            next = list_.merged_with(identity_, list);
        } catch (const crypto::Error&) {
            return;  // more than 64 devices between them: keep ours
        }
        dirty_ = true;
    }
    for (const auto& e : next.entries()) {
        if (e.revoked()) sessions_->forget_device(id(), e.signing_key);
    }
    list_ = std::move(next);
}

void Account::revoke_device(const crypto::PublicKey& device_signing_key, std::uint64_t now_ms) {
    if (device_signing_key == device_->signing_key()) throw std::runtime_error("this device cannot revoke itself");
    if (!list_.is_active(device_signing_key)) throw std::runtime_error("no active device of yours has that key");
    list_ = list_.with_revoked(identity_, device_signing_key, now_ms);
    sessions_->forget_device(id(), device_signing_key);
    dirty_ = true;
}

proto::node::RetrieveRequest Account::public_fetch(const crypto::VeilId& peer, std::uint16_t ns) {
    proto::node::RetrieveRequest q;
    q.mailbox = peer.x25519;
    q.ns = ns;
    q.page.max_count = 1000;
    return q;
}

proto::node::StoreRequest Account::sealed_to(const crypto::VeilId& peer, const crypto::PublicKey& device_key,
                                      const crypto::DeviceList::Entry& entry, wire::ByteView plaintext,
                                      std::uint64_t ttl_ms) {
    auto cipher = sessions_->encrypt(peer, device_key, plaintext);
    auto env = crypto::seal(certificate_, cipher, entry.dh_key, entry.signing_key, kInboxNamespace, ttl_ms);
    return {entry.signing_key, kInboxNamespace, env.ttl_ms, env.encode()};
}

Account::Outgoing Account::prepare_send(const crypto::VeilId& to, const crypto::DeviceList& their_list,
                                        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& their_bundles,
                                        const std::map<crypto::PublicKey, crypto::PreKeyBundle>& own_bundles,
                                        ChatMessage message, std::uint64_t now_ms, std::uint64_t ttl_ms,
                                        ListSource source, const StrangerSessions::IsAccepted& is_accepted) {
    if (to == id()) throw std::runtime_error("cannot send a message to yourself");
    Outgoing out;
    out.record.peer = to;
    out.record.from = id();
    out.record.message = message;
    out.record.delivery = DeliveryState::queued;
    // Never an older list than one already seen: a swarm member serving a stale list cannot
    // make us encrypt to a device revoked since.
    // A contact's list, or one of a peer we hold sessions with, is never evicted for a stranger's.
    const auto* held = source == ListSource::held ? peers_.find(to) : nullptr;
    const auto list = held ? held->list : peers_.accept(to, their_list, now_ms, keep_lists(is_accepted)).value_or(their_list);
    for (const auto& e : list.entries()) {
        if (e.revoked() || peers_.state(to, e.signing_key) == PeerLists::DeviceState::revoked)
            sessions_->forget_device(to, e.signing_key);
    }
    if (fan_out(to, list, their_bundles, encode(message), now_ms, ttl_ms, out.stores) == 0) {
        throw std::runtime_error("the recipient has no device that can be reached (no valid pre-key bundle)");
    }
    ChatMessage sync = message;
    sync.sync_peer = to;
    fan_out(id(), list_, own_bundles, encode(sync), now_ms, ttl_ms, out.stores);
    return out;
}

PeerLists::Keep Account::keep_lists(StrangerSessions::IsAccepted is_accepted) const {
    return [this, is_accepted = std::move(is_accepted)](const crypto::VeilId& p) {
        return (is_accepted && is_accepted(p)) || sessions_->cost(p).sessions > 0;
    };
}

bool Account::needs_bundles(const crypto::VeilId& person, const crypto::DeviceList& list) const {
    // The same devices fan_out would start a session with.
    if (sessions_->device_count(person) >= crypto::SessionManager::max_devices_per_peer) return false;
    return std::any_of(list.entries().begin(), list.entries().end(), [this, &person](const auto& e) {
        return !e.revoked() && e.signing_key != device_->signing_key() && !sessions_->has_session(person, e.signing_key);
    });
}

std::size_t Account::fan_out(const crypto::VeilId& person, const crypto::DeviceList& list,
                             const std::map<crypto::PublicKey, crypto::PreKeyBundle>& bundles, wire::ByteView plaintext,
                             std::uint64_t now_ms, std::uint64_t ttl_ms, std::vector<proto::node::StoreRequest>& out) {
    // Each device: continue its session, or start one from its bundle; skip it if it has none,
    // or if the person already has sessions with as many devices as the cap allows.
    std::size_t reached = 0;
    for (const auto& e : list.entries()) {
        if (e.revoked() || e.signing_key == device_->signing_key()) continue;
        // Marked revoked by another list of theirs, or of ours (a fork, an older one): never
        // encrypted to.
        if (peers_.state(person, e.signing_key) == PeerLists::DeviceState::revoked) continue;
        if (!sessions_->has_session(person, e.signing_key)) {
            auto b = bundles.find(e.signing_key);
            if (b == bundles.end()) continue;
            if (sessions_->device_count(person) >= crypto::SessionManager::max_devices_per_peer) continue;
            sessions_->start_session(person, with_one_random_key(b->second), now_ms);
        }
        out.push_back(sealed_to(person, e.signing_key, e, plaintext, ttl_ms));
        ++reached;
    }
    return reached;
}

std::vector<proto::node::StoreRequest> Account::prepare_sync(const std::map<crypto::PublicKey, crypto::PreKeyBundle>& own_bundles,
                                                      const ChatMessage& message, std::uint64_t now_ms) {
    if (!message.sync_peer) throw std::invalid_argument("a message for own devices names its conversation");
    std::vector<proto::node::StoreRequest> out;
    fan_out(id(), list_, own_bundles, encode(message), now_ms, kPublishTtlMs, out);
    return out;
}

bool Account::has_other_devices() const {
    return std::any_of(list_.entries().begin(), list_.entries().end(), [this](const auto& e) {
        return !e.revoked() && e.signing_key != device_->signing_key();
    });
}

proto::node::RetrieveRequest Account::inbox_request(std::optional<proto::node::Hash> after, std::uint64_t now_ms) const {
    proto::node::RetrieveRequest q;
    q.mailbox = inbox();
    q.ns = kInboxNamespace;
    q.page.after = after;
    q.page.max_count = kPageCount;
    proto::node::RequestBody body = q;
    proto::node::sign_owner_request(body, signing_key_of(*device_), now_ms);
    return std::get<proto::node::RetrieveRequest>(body);
}

proto::node::SubscribeRequest Account::subscribe_request(std::uint32_t wait_ms, std::uint64_t now_ms,
                                                        std::optional<proto::node::Hash> after) const {
    proto::node::SubscribeRequest q;
    q.mailbox = inbox();
    q.ns = kInboxNamespace;
    q.page.after = after;
    q.page.max_count = kPageCount;  // a full page: the answer is the inbox when it holds no more
    q.wait_ms = wait_ms;
    proto::node::RequestBody body = q;
    proto::node::sign_owner_request(body, signing_key_of(*device_), now_ms);
    return std::get<proto::node::SubscribeRequest>(body);
}

proto::node::DeleteRequest Account::identity_delete_request(std::uint16_t ns, std::vector<proto::node::Hash> hashes,
                                                     std::uint64_t now_ms) const {
    proto::node::DeleteRequest q;
    q.mailbox = id().x25519;
    q.ns = ns;
    q.hashes = std::move(hashes);
    proto::node::RequestBody body = q;
    proto::node::sign_owner_request(body, crypto::SigningKeyPair::from_seed(identity_.seed().view()), now_ms);
    return std::get<proto::node::DeleteRequest>(body);
}

proto::node::DeleteRequest Account::delete_request(std::vector<proto::node::Hash> hashes, std::uint64_t now_ms) const {
    proto::node::DeleteRequest q;
    q.mailbox = inbox();
    q.ns = kInboxNamespace;
    q.hashes = std::move(hashes);
    proto::node::RequestBody body = q;
    proto::node::sign_owner_request(body, signing_key_of(*device_), now_ms);
    return std::get<proto::node::DeleteRequest>(body);
}

std::optional<MessageRecord> Account::open(wire::ByteView envelope, std::uint64_t now_ms,
                                           crypto::PublicKey* sender_device,
                                           const std::function<bool(const crypto::VeilId&)>& is_blocked,
                                           const StrangerSessions::IsAccepted& is_accepted) {
    auto env = crypto::SealedEnvelope::decode(envelope);
    auto opened = crypto::open(env, device_->dh_pair());
    auto sender = opened.sender.claimed_id();
    // Before the ratchet: a blocked sender makes and moves no session (issue 14). A forged
    // certificate naming a blocked ID is dropped all the same.
    if (sender != id() && is_blocked && is_blocked(sender)) return std::nullopt;
    if (peers_.state(sender, opened.sender.device_signing_key) == PeerLists::DeviceState::revoked) {
        throw crypto::Error(crypto::ErrorKind::revoked, "a device its owner revoked wrote this");
    }
    auto before = prekeys_->one_time_count();
    auto plaintext = sessions_->decrypt(sender, opened.sender, opened.message, now_ms);
    if (prekeys_->one_time_count() != before) dirty_ = true;  // a one-time key was used: republish
    if (sender != id()) strangers_.opened(sender, is_accepted, *sessions_);
    auto msg = decode_chat(plaintext);
    if (sender_device) *sender_device = opened.sender.device_signing_key;
    MessageRecord rec;
    rec.peer = rec.from = sender;
    rec.message = msg;
    if (sender == id()) {
        // Certified by our identity; refused once our device list revokes it (a device added
        // after our copy of the list was made is still ours: its certificate says so).
        if (const auto* e = list_.find(opened.sender.device_signing_key); e && e->revoked()) {
            throw crypto::Error(crypto::ErrorKind::revoked, "a revoked device of ours wrote this");
        }
        if (!msg.sync_peer || *msg.sync_peer == id()) throw wire::DecodeError("own-device copy names no conversation");
        rec.peer = *msg.sync_peer;
    } else {
        rec.message.sync_peer.reset();  // only our own devices may say whose conversation it is
    }
    if (seen(msg.id)) return std::nullopt;
    remember(msg.id);
    return rec;
}

bool Account::seen(const MessageId& id) const { return std::find(seen_.begin(), seen_.end(), id) != seen_.end(); }

void Account::remember(const MessageId& id) {
    seen_.push_back(id);
    while (seen_.size() > kSeenIdsKept) seen_.pop_front();
}

}  // namespace veil::messenger
