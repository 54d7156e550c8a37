#pragma once
/// A Veil identity: a 32-byte Ed25519 seed; its X25519 key (libsodium's conversion); the Veil
/// ID "05" + hex(X25519 public key), 66 characters, as Session writes it.

#include <string>
#include <string_view>

#include "veil/crypto/keys.hpp"

namespace veil::crypto {

inline constexpr std::size_t veil_id_chars = 66;

/// A parsed Veil ID: the identity's X25519 public key. A plain value, freely copied.
struct VeilId final {
    PublicKey x25519{};

    /// "05" + 64 lower-case hex characters.
    [[nodiscard]] std::string str() const;
    friend bool operator==(const VeilId&, const VeilId&) = default;
    friend auto operator<=>(const VeilId&, const VeilId&) = default;
};

/// Parses a Veil ID. Throws Error{invalid_id} naming the fault: wrong length, prefix other than
/// "05", a non-hex character (with its position), or a key that is not a valid curve point.
VeilId parse_veil_id(std::string_view text);

/// The Veil ID that an Ed25519 identity key maps to (throws Error{untrusted_key} if invalid).
VeilId veil_id_of(const PublicKey& identity_signing_key);

/// True when identity_signing_key is the Ed25519 key of the identity `id` (its X25519 conversion
/// equals the ID). Messages carry the Ed25519 key; only keys bound this way are ever trusted.
bool key_is_bound_to(const PublicKey& identity_signing_key, const VeilId& id);

/// Verifies sig by identity_signing_key over msg, after checking that the key is bound to id.
/// Throws Error{untrusted_key} or Error{bad_signature}.
void verify_identity_signature(const VeilId& id, const PublicKey& identity_signing_key,
                               ByteView msg, const Signature& sig);

/// The secret side of an identity. Move-only; secrets in guarded memory.
class Identity final {
public:
    /// A new identity from 32 random bytes.
    static Identity generate();
    /// The identity of a 32-byte seed (throws Error{invalid_argument} for another size).
    static Identity from_seed(const SecretBytes& seed);
    /// The identity of a 24-word recovery phrase (throws Error{invalid_phrase}).
    static Identity from_phrase(std::string_view phrase);

    /// The 24-word BIP-39 phrase of the seed (secret: show once, never log).
    [[nodiscard]] SecretBytes recovery_phrase() const;
    [[nodiscard]] const VeilId& veil_id() const { return id_; }
    /// The Ed25519 public key that signs for this identity (device lists, certificates).
    [[nodiscard]] const PublicKey& signing_key() const { return sign_.pub; }
    [[nodiscard]] const SecretBytes& seed() const { return seed_; }
    /// The identity's X25519 pair (its public half is the Veil ID).
    [[nodiscard]] const DhKeyPair& dh_keys() const { return dh_; }
    /// Ed25519 signature by the identity key.
    [[nodiscard]] Signature sign(ByteView msg) const { return sign_.sign(msg); }

private:
    Identity(SecretBytes seed, SigningKeyPair sign, DhKeyPair dh);
    SecretBytes seed_;
    SigningKeyPair sign_;
    DhKeyPair dh_;
    VeilId id_;
};

}  // namespace veil::crypto
