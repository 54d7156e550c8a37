#pragma once
/// Sessions of one local device with every peer device, in the manner of Signal's Sesame:
/// per person, per device, one active session plus a few inactive ones. A message that an
/// inactive session decrypts makes it active again, so two devices that started sessions at the
/// same time converge on one. Bounded per peer identity: at most max_devices_per_peer devices
/// and 1 + max_inactive sessions each (the oldest inactive is evicted). Not thread-safe;
/// references passed in must outlive the manager.

#include <map>
#include <optional>
#include <vector>

#include "veil/crypto/ratchet.hpp"
#include "veil/crypto/x3dh.hpp"

namespace veil::crypto {

/// One encrypted message between devices: a pre-key message (X3DH header + ratchet message)
/// until the initiator hears back, then plain ratchet messages.
struct CipherMessage final {
    static constexpr std::uint8_t type_prekey = 1;
    static constexpr std::uint8_t type_ratchet = 2;
    std::optional<X3dhHeader> x3dh;  ///< present in pre-key messages
    RatchetMessage message;

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}.
    static CipherMessage decode(ByteView bytes);
};

class SessionManager final {
public:
    static constexpr std::size_t max_inactive = 4;
    /// Devices of one identity that may hold sessions; a further device is refused
    /// (Error{too_large}) until one is forgotten (forget_device, e.g. revoked). Signal allows a
    /// handful of linked devices; an identity may certify any number of keys, and each would
    /// otherwise cost us sessions.
    static constexpr std::size_t max_devices_per_peer = 16;

    /// self is this device, certified by the identity whose Ed25519 key is self_identity_key.
    SessionManager(const DeviceKeys& self, const PublicKey& self_identity_key, PreKeyStore& prekeys);

    /// Verifies bundle (identity -> certificate -> pre-keys, not expired) and makes a new active
    /// session with that device by X3DH; the previous active one becomes inactive.
    void start_session(const VeilId& peer, const PreKeyBundle& bundle, std::uint64_t now_ms);
    /// Encrypts for a peer device's active session (Error{no_session} if none).
    Bytes encrypt(const VeilId& peer, const PublicKey& device_signing_key, ByteView plaintext);
    /// Decrypts a message from a device whose certificate the caller got from a sealed envelope.
    /// Verifies the certificate against peer; tries the active then inactive sessions; a pre-key
    /// message that none opens starts a new session (its X3DH key must be the certificate's).
    Bytes decrypt(const VeilId& peer, const DeviceCertificate& sender, ByteView message,
                        std::uint64_t now_ms);

    [[nodiscard]] bool has_session(const VeilId& peer, const PublicKey& device_signing_key) const;
    /// Sessions held for a device (active + inactive).
    [[nodiscard]] std::size_t session_count(const VeilId& peer,
                                            const PublicKey& device_signing_key) const;
    /// Sessions held with every device of every peer.
    [[nodiscard]] std::size_t session_count() const;
    /// Devices of peer that hold sessions.
    [[nodiscard]] std::size_t device_count(const VeilId& peer) const;
    /// The X3DH base key (EK_A) naming the active session: equal on both sides of one session.
    [[nodiscard]] std::optional<PublicKey> active_session_id(
        const VeilId& peer, const PublicKey& device_signing_key) const;
    /// Drops every session with a device (e.g. revoked by its device list).
    void forget_device(const VeilId& peer, const PublicKey& device_signing_key);
    /// Drops every session with every device of peer.
    void forget_peer(const VeilId& peer);
    /// What the sessions with every device of peer hold: sessions, and skipped message keys.
    struct PeerCost final {
        std::size_t sessions = 0;
        std::size_t skipped_keys = 0;
    };
    [[nodiscard]] PeerCost cost(const VeilId& peer) const;

    /// Storage form of every session, guarded; load() replaces the current set (Error{malformed}
    /// for version 1, from before identity binding: its sessions are not bound to identities).
    [[nodiscard]] SecretBytes serialize() const;
    void load(ByteView bytes);

private:
    struct Session final {
        RatchetSession ratchet;
        PublicKey base_key{};             // EK_A of the X3DH run that made it
        std::optional<X3dhHeader> pending;  // resent until the peer answers
    };
    struct Record final {
        std::vector<Session> sessions;  // [0] is active
    };
    using Key = std::pair<VeilId, PublicKey>;
    void make_active(Record& record, Session session);
    /// Error{too_large} when key is a new device of a peer that has max_devices_per_peer already.
    void check_room(const Key& key) const;

    const DeviceKeys& self_;
    PublicKey self_identity_key_;
    PreKeyStore& prekeys_;
    std::map<Key, Record> records_;
};

}  // namespace veil::crypto
