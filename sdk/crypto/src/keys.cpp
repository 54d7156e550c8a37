#include "veil/crypto/keys.hpp"

#include <sodium.h>

#include "veil/crypto/error.hpp"

namespace veil::crypto {

DhKeyPair DhKeyPair::generate() { return from_secret(SecretBytes::random(crypto_scalarmult_BYTES)); }

DhKeyPair DhKeyPair::from_secret(SecretBytes sec) {
    if (sec.size() != crypto_scalarmult_SCALARBYTES) {
        throw Error(ErrorKind::invalid_argument, "x25519 secret must be 32 bytes");
    }
    DhKeyPair kp;
    crypto_scalarmult_base(kp.pub.data(), sec.data());
    kp.sec = std::move(sec);
    return kp;
}

SecretBytes dh(const SecretBytes& sec, const PublicKey& pub) {
    if (sec.size() != crypto_scalarmult_SCALARBYTES) {
        throw Error(ErrorKind::invalid_argument, "x25519 secret must be 32 bytes");
    }
    SecretBytes out(crypto_scalarmult_BYTES);
    // libsodium returns -1 when the shared point is all zero (a low-order public key).
    if (crypto_scalarmult(out.data(), sec.data(), pub.data()) != 0) {
        throw Error(ErrorKind::weak_key, "x25519: public key of low order");
    }
    return out;
}

SigningKeyPair SigningKeyPair::generate() { return from_seed(SecretBytes::random(32).view()); }

SecretBytes SigningKeyPair::seed() const { return SecretBytes::copy_of(sec.view().first(crypto_sign_SEEDBYTES)); }

SigningKeyPair SigningKeyPair::from_seed(ByteView seed) {
    ensure_sodium();
    if (seed.size() != crypto_sign_SEEDBYTES) {
        throw Error(ErrorKind::invalid_argument, "ed25519 seed must be 32 bytes");
    }
    SigningKeyPair kp;
    kp.sec = SecretBytes(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(kp.pub.data(), kp.sec.data(), seed.data());
    return kp;
}

Signature SigningKeyPair::sign(ByteView msg) const {
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sec.data());
    return sig;
}

DhKeyPair SigningKeyPair::to_dh() const {
    SecretBytes x(crypto_scalarmult_SCALARBYTES);
    crypto_sign_ed25519_sk_to_curve25519(x.data(), sec.data());
    return DhKeyPair::from_secret(std::move(x));
}

bool verify_signature(const PublicKey& pub, ByteView msg, const Signature& sig) {
    ensure_sodium();
    return crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pub.data()) == 0;
}

PublicKey ed25519_to_x25519(const PublicKey& ed_pub) {
    ensure_sodium();
    PublicKey x{};
    if (crypto_sign_ed25519_pk_to_curve25519(x.data(), ed_pub.data()) != 0) {
        throw Error(ErrorKind::untrusted_key, "ed25519 key is not a valid point");
    }
    return x;
}

PublicKey to_public_key(ByteView b) {
    if (b.size() != 32) {
        throw Error(ErrorKind::invalid_argument,
                    "public key must be 32 bytes, got " + std::to_string(b.size()));
    }
    PublicKey k{};
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}

}  // namespace veil::crypto
