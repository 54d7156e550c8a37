#include "directory/ed25519.hpp"

#include <sodium.h>

#include <stdexcept>

namespace veil::directory {

namespace {
void ensure_sodium() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}
}  // namespace

void SigningKey::Free::operator()(unsigned char* p) const noexcept { sodium_free(p); }

SigningKey::SigningKey() {
    ensure_sodium();
    secret_.reset(static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES)));
    if (!secret_) throw std::bad_alloc();
}

SigningKey SigningKey::generate() {
    SigningKey k;
    crypto_sign_keypair(k.public_key_.data(), k.secret_.get());
    return k;
}

SigningKey SigningKey::from_seed(std::span<const std::uint8_t> seed) {
    if (seed.size() != crypto_sign_SEEDBYTES) throw std::invalid_argument("ed25519 seed must be 32 bytes");
    SigningKey k;
    crypto_sign_seed_keypair(k.public_key_.data(), k.secret_.get(), seed.data());
    return k;
}

PublicKey SigningKey::x25519_public_key() const {
    PublicKey x{};
    if (!ed25519_to_x25519(public_key_, x)) throw std::runtime_error("ed25519 key has no x25519 form");
    return x;
}

std::array<std::uint8_t, 32> SigningKey::seed() const {
    std::array<std::uint8_t, 32> s{};
    crypto_sign_ed25519_sk_to_seed(s.data(), secret_.get());
    return s;
}

Signature SigningKey::sign(wire::ByteView msg) const {
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), secret_.get());
    return sig;
}

bool verify_signature(const PublicKey& pk, wire::ByteView msg, const Signature& sig) {
    ensure_sodium();
    return crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data()) == 0;
}

bool ed25519_to_x25519(const PublicKey& ed, PublicKey& x_out) {
    ensure_sodium();
    return crypto_sign_ed25519_pk_to_curve25519(x_out.data(), ed.data()) == 0;
}

}  // namespace veil::directory
