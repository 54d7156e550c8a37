#include "veil/crypto/session_manager.hpp"

#include <sodium.h>

#include "internal.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t message_version = 1;
constexpr std::uint8_t manager_version = 2;  // 1: sessions whose AD held the device keys only
constexpr std::size_t max_message_bytes = RatchetMessage::max_ciphertext_bytes + 256;

}  // namespace

Bytes CipherMessage::encode() const {
    wire::Writer w;
    w.u8(message_version).u8(x3dh ? type_prekey : type_ratchet);
    if (x3dh) w.var(x3dh->encode());
    w.var(message.encode());
    return w.take();
}

CipherMessage CipherMessage::decode(ByteView bytes) {
    return detail::decoding("cipher message", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, message_version, "cipher message");
        CipherMessage m;
        std::uint8_t type = r.u8();
        if (type == type_prekey) m.x3dh = X3dhHeader::decode(r.var(128));
        else if (type != type_ratchet) throw wire::DecodeError("unknown message type");
        m.message = RatchetMessage::decode(r.var(max_message_bytes));
        r.expect_done();
        return m;
    });
}

SessionManager::SessionManager(const DeviceKeys& self, const PublicKey& self_identity_key, PreKeyStore& prekeys)
    : self_(self), self_identity_key_(self_identity_key), prekeys_(prekeys) {}

void SessionManager::check_room(const Key& key) const {
    if (records_.count(key) == 0 && device_count(key.first) >= max_devices_per_peer) {
        throw Error(ErrorKind::too_large, "this identity already has sessions with " +
                                              std::to_string(max_devices_per_peer) +
                                              " devices (the cap); another device is refused");
    }
}

void SessionManager::make_active(Record& record, Session session) {
    record.sessions.insert(record.sessions.begin(), std::move(session));
    if (record.sessions.size() > 1 + max_inactive) record.sessions.pop_back();
}

void SessionManager::start_session(const VeilId& peer, const PreKeyBundle& bundle, std::uint64_t now_ms) {
    const Key key{peer, bundle.certificate.device_signing_key};
    check_room(key);
    auto x = x3dh_initiate(self_, self_identity_key_, bundle, peer, now_ms);
    Session s{RatchetSession::initiate(x.shared_key, std::move(x.associated_data), x.responder_ratchet_key),
              x.header.ephemeral_key, x.header};
    make_active(records_[key], std::move(s));
}

Bytes SessionManager::encrypt(const VeilId& peer, const PublicKey& device_signing_key, ByteView plaintext) {
    auto it = records_.find({peer, device_signing_key});
    if (it == records_.end() || it->second.sessions.empty()) {
        throw Error(ErrorKind::no_session, "no session with that device");
    }
    Session& s = it->second.sessions.front();
    CipherMessage m{s.pending, s.ratchet.encrypt(plaintext)};
    return m.encode();
}

Bytes SessionManager::decrypt(const VeilId& peer, const DeviceCertificate& sender, ByteView message,
                                    std::uint64_t now_ms) {
    sender.verify(peer);
    auto m = CipherMessage::decode(message);
    const Key key{peer, sender.device_signing_key};
    // Only a successful decryption changes anything (no empty record is left behind).
    auto found = records_.find(key);
    std::vector<Session> no_sessions;
    Record* existing = found == records_.end() ? nullptr : &found->second;
    auto& sessions = existing ? existing->sessions : no_sessions;
    std::optional<Error> first_error;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
        try {
            auto plain = sessions[i].ratchet.decrypt(m.message, now_ms);
            sessions[i].pending.reset();  // the peer answered: stop resending X3DH
            if (i != 0) {  // Sesame: the session the peer uses becomes active
                Session s = std::move(sessions[i]);
                sessions.erase(sessions.begin() + static_cast<std::ptrdiff_t>(i));
                make_active(*existing, std::move(s));
            }
            return plain;
        } catch (const Error& e) {
            if (!first_error) first_error = e;
        }
    }
    if (!m.x3dh) {
        if (first_error) throw *first_error;
        throw Error(ErrorKind::no_session, "no session with that device");
    }
    const auto& h = *m.x3dh;
    for (const auto& s : sessions) {
        // A replayed pre-key message must not start a second session.
        if (s.base_key == h.ephemeral_key) {
            throw first_error ? *first_error : Error(ErrorKind::duplicate_message, "pre-key message replayed");
        }
    }
    check_room(key);
    auto x = x3dh_respond(self_, self_identity_key_, prekeys_, h, sender);
    auto ratchet = RatchetSession::respond(x.shared_key, std::move(x.associated_data),
                                           prekeys_.signed_prekey(h.signed_prekey_id).clone());
    auto plain = ratchet.decrypt(m.message, now_ms);
    if (h.one_time_prekey_id) prekeys_.consume_one_time_prekey(*h.one_time_prekey_id, now_ms);
    make_active(records_[key], Session{std::move(ratchet), h.ephemeral_key, std::nullopt});
    return plain;
}

bool SessionManager::has_session(const VeilId& peer, const PublicKey& device_signing_key) const {
    return session_count(peer, device_signing_key) > 0;
}

std::size_t SessionManager::session_count(const VeilId& peer, const PublicKey& device_signing_key) const {
    auto it = records_.find({peer, device_signing_key});
    return it == records_.end() ? 0 : it->second.sessions.size();
}

std::optional<PublicKey> SessionManager::active_session_id(const VeilId& peer,
                                                           const PublicKey& device_signing_key) const {
    auto it = records_.find({peer, device_signing_key});
    if (it == records_.end() || it->second.sessions.empty()) return std::nullopt;
    return it->second.sessions.front().base_key;
}

std::size_t SessionManager::session_count() const {
    std::size_t n = 0;
    for (const auto& [key, record] : records_) n += record.sessions.size();
    return n;
}

std::size_t SessionManager::device_count(const VeilId& peer) const {
    auto first = records_.lower_bound({peer, PublicKey{}});
    std::size_t n = 0;
    for (auto it = first; it != records_.end() && it->first.first == peer; ++it) ++n;
    return n;
}

void SessionManager::forget_device(const VeilId& peer, const PublicKey& device_signing_key) {
    records_.erase({peer, device_signing_key});
}

void SessionManager::forget_peer(const VeilId& peer) {
    auto first = records_.lower_bound({peer, PublicKey{}});
    auto last = first;
    while (last != records_.end() && last->first.first == peer) ++last;
    records_.erase(first, last);
}

SessionManager::PeerCost SessionManager::cost(const VeilId& peer) const {
    PeerCost c;
    for (auto it = records_.lower_bound({peer, PublicKey{}}); it != records_.end() && it->first.first == peer; ++it) {
        c.sessions += it->second.sessions.size();
        for (const auto& s : it->second.sessions) c.skipped_keys += s.ratchet.skipped_key_count();
    }
    return c;
}

SecretBytes SessionManager::serialize() const {
    std::vector<SecretBytes> states;
    std::size_t size = 1 + 4;
    for (const auto& [key, record] : records_) {
        size += 32 + 32 + 4;
        for (const auto& s : record.sessions) {
            states.push_back(s.ratchet.serialize());
            size += 32 + 4 + (s.pending ? s.pending->encode().size() : 0) + 4 + states.back().size();
        }
    }
    SecretBytes out(size);
    detail::SecretWriter w(out);
    w.u8(manager_version).u32(static_cast<std::uint32_t>(records_.size()));
    std::size_t next = 0;
    for (const auto& [key, record] : records_) {
        w.raw(key.first.x25519).raw(key.second).u32(static_cast<std::uint32_t>(record.sessions.size()));
        for (const auto& s : record.sessions) {
            w.raw(s.base_key).var(s.pending ? s.pending->encode() : Bytes{}).var(states[next++].view());
        }
    }
    return out;
}

void SessionManager::load(ByteView bytes) {
    auto loaded = detail::decoding("session manager", [&] {
        wire::Reader r(bytes);
        detail::expect_bound_version(r, manager_version, "session manager");
        std::map<Key, Record> records;
        std::uint32_t n = r.u32();
        for (std::uint32_t i = 0; i < n; ++i) {
            Key key{VeilId{detail::read_key(r)}, detail::read_key(r)};
            std::uint32_t count = r.u32();
            if (count > 1 + max_inactive) throw wire::DecodeError("too many sessions for one device");
            if (records.count(key) != 0) throw wire::DecodeError("a device stored twice");
            Record& record = records[key];
            for (std::uint32_t j = 0; j < count; ++j) {
                PublicKey base = detail::read_key(r);
                auto pending = r.var(128);
                auto state = r.var(1 << 20);
                Session s{RatchetSession::deserialize(state), base, std::nullopt};
                if (!pending.empty()) s.pending = X3dhHeader::decode(pending);
                record.sessions.push_back(std::move(s));
            }
        }
        r.expect_done();
        return records;
    });
    records_ = std::move(loaded);
}

}  // namespace veil::crypto
