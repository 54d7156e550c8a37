#pragma once
/// X3DH (Signal's specification) between devices. The X3DH identity key of a device is its
/// X25519 device key (certified by the identity). SK = HKDF(F || DH1 || DH2 || DH3 [|| DH4]),
/// F = 32 bytes 0xFF, salt = 32 zero bytes, info = "Veil_X3DH_v2";
/// AD = ID_A || IK_A || ID_B || IK_B (each side's identity Ed25519 key and device X25519 key), so a
/// session is bound to both identities, not only to the two devices (unknown key-share).

#include <optional>

#include "veil/crypto/prekey.hpp"

namespace veil::crypto {

/// What the initiator sends in front of its first messages so the responder can derive SK.
struct X3dhHeader final {
    PublicKey initiator_key{};  ///< IK_A: the initiating device's X25519 key
    PublicKey ephemeral_key{};  ///< EK_A
    std::uint32_t signed_prekey_id = 0;
    std::optional<std::uint32_t> one_time_prekey_id;

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed} (also for version 1, from before identity binding).
    static X3dhHeader decode(ByteView bytes);
    friend bool operator==(const X3dhHeader&, const X3dhHeader&) = default;
};

/// The initiator's result: the shared secret, AD and the header to send.
struct X3dhInitiated final {
    SecretBytes shared_key;
    Bytes associated_data;
    X3dhHeader header;
    PublicKey responder_ratchet_key{};  ///< the signed pre-key, Bob's first ratchet key
};

/// The responder's result.
struct X3dhResponded final {
    SecretBytes shared_key;
    Bytes associated_data;
};

/// Verifies bundle against peer at now_ms (identity -> certificate -> pre-keys), then runs X3DH
/// with its first one-time key (or the three-DH form when it has none). self_identity_key is the
/// Ed25519 key of the identity that certified self.
X3dhInitiated x3dh_initiate(const DeviceKeys& self, const PublicKey& self_identity_key,
                            const PreKeyBundle& bundle, const VeilId& peer, std::uint64_t now_ms);

/// The responder's side, for an initiator whose certificate the caller verified against the
/// identity it claims: header.initiator_key must be that certificate's device key
/// (Error{untrusted_key}). Does not consume the one-time key (the caller does, after the first
/// message decrypted). Throws Error{no_prekey}, Error{weak_key}.
X3dhResponded x3dh_respond(const DeviceKeys& self, const PublicKey& self_identity_key,
                           const PreKeyStore& store, const X3dhHeader& header,
                           const DeviceCertificate& initiator);

}  // namespace veil::crypto
