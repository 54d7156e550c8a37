#pragma once
/// Key pairs and the raw public-key operations everything else is built on (libsodium only).

#include <array>
#include <cstdint>

#include "veil/crypto/secret_bytes.hpp"

namespace veil::crypto {

inline constexpr std::size_t key_bytes = 32;        ///< every public key, seed and symmetric key
inline constexpr std::size_t signature_bytes = 64;  ///< Ed25519 signature

/// A 32-byte public key (Ed25519 or X25519, the context says which).
using PublicKey = std::array<std::uint8_t, key_bytes>;
/// A detached Ed25519 signature.
using Signature = std::array<std::uint8_t, signature_bytes>;

/// An X25519 key pair; the secret half lives in guarded memory.
struct DhKeyPair final {
    PublicKey pub{};
    SecretBytes sec;

    /// A fresh random key pair.
    static DhKeyPair generate();
    /// The pair for a 32-byte X25519 secret.
    static DhKeyPair from_secret(SecretBytes sec);
    [[nodiscard]] DhKeyPair clone() const { return {pub, sec.clone()}; }
};

/// X25519(sec, pub). Throws Error{weak_key} when the result is all zero (low-order point).
SecretBytes dh(const SecretBytes& sec, const PublicKey& pub);

/// An Ed25519 key pair (secret in libsodium's 64-byte seed||pk form, guarded).
struct SigningKeyPair final {
    PublicKey pub{};
    SecretBytes sec;

    static SigningKeyPair generate();
    /// Deterministic from a 32-byte seed.
    static SigningKeyPair from_seed(ByteView seed);
    /// Detached signature over msg.
    [[nodiscard]] Signature sign(ByteView msg) const;
    /// The X25519 pair that libsodium derives from this Ed25519 pair.
    [[nodiscard]] DhKeyPair to_dh() const;
    /// The 32-byte seed this pair derives from (for writing a key file).
    [[nodiscard]] SecretBytes seed() const;
    [[nodiscard]] SigningKeyPair clone() const { return {pub, sec.clone()}; }
};

/// True when sig is a valid Ed25519 signature of msg by pub.
bool verify_signature(const PublicKey& pub, ByteView msg, const Signature& sig);

/// X25519 public key of an Ed25519 public key. Throws Error{untrusted_key} for a key that is
/// not a valid point.
PublicKey ed25519_to_x25519(const PublicKey& ed_pub);

/// Copies exactly 32 bytes into a PublicKey; throws Error{invalid_argument} otherwise.
PublicKey to_public_key(ByteView b);

}  // namespace veil::crypto
