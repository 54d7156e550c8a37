#include "veil/crypto/identity.hpp"

#include <sodium.h>

#include "veil/crypto/error.hpp"
#include "veil/crypto/mnemonic.hpp"

namespace veil::crypto {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// An X25519 key in a Veil ID must be canonical (u < 2^255 - 19) and not of low order.
bool is_acceptable_x25519(const PublicKey& u) {
    if (u[31] & 0x80) return false;
    // u >= p = 2^255 - 19 iff the top 31 bytes are 0x7f ff..ff and the low byte >= 0xed.
    bool all_ff = u[31] == 0x7f;
    for (std::size_t i = 1; i < 31 && all_ff; ++i) all_ff = u[i] == 0xff;
    if (all_ff && u[0] >= 0xed) return false;
    static const std::array<std::uint8_t, 32> scalar = {
        0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x56, 0x65, 0x69, 0x6c, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21,
        0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x41};
    std::array<std::uint8_t, 32> out{};
    bool ok = crypto_scalarmult(out.data(), scalar.data(), u.data()) == 0;
    sodium_memzero(out.data(), out.size());
    return ok;
}

}  // namespace

std::string VeilId::str() const { return "05" + wire::to_hex(x25519); }

VeilId parse_veil_id(std::string_view text) {
    ensure_sodium();
    if (text.size() != veil_id_chars) {
        throw Error(ErrorKind::invalid_id, "Veil ID must be 66 characters, got " +
                                               std::to_string(text.size()));
    }
    if (text.substr(0, 2) != "05") {
        throw Error(ErrorKind::invalid_id, "Veil ID must start with \"05\"");
    }
    VeilId id;
    for (std::size_t i = 0; i < 32; ++i) {
        int hi = hex_value(text[2 + 2 * i]);
        int lo = hex_value(text[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            std::size_t pos = hi < 0 ? 2 + 2 * i : 3 + 2 * i;
            throw Error(ErrorKind::invalid_id, "Veil ID has a non-hex character at position " +
                                                   std::to_string(pos));
        }
        id.x25519[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    if (!is_acceptable_x25519(id.x25519)) {
        throw Error(ErrorKind::invalid_id, "Veil ID key is not a valid curve point");
    }
    return id;
}

VeilId veil_id_of(const PublicKey& identity_signing_key) {
    return VeilId{ed25519_to_x25519(identity_signing_key)};
}

bool key_is_bound_to(const PublicKey& identity_signing_key, const VeilId& id) {
    PublicKey x{};
    if (crypto_sign_ed25519_pk_to_curve25519(x.data(), identity_signing_key.data()) != 0) return false;
    return sodium_memcmp(x.data(), id.x25519.data(), x.size()) == 0;
}

void verify_identity_signature(const VeilId& id, const PublicKey& identity_signing_key, ByteView msg,
                               const Signature& sig) {
    ensure_sodium();
    if (!key_is_bound_to(identity_signing_key, id)) {
        throw Error(ErrorKind::untrusted_key, "signing key does not belong to " + id.str());
    }
    if (!verify_signature(identity_signing_key, msg, sig)) {
        throw Error(ErrorKind::bad_signature, "identity signature does not verify");
    }
}

Identity::Identity(SecretBytes seed, SigningKeyPair sign, DhKeyPair dh)
    : seed_(std::move(seed)), sign_(std::move(sign)), dh_(std::move(dh)), id_{dh_.pub} {}

Identity Identity::generate() { return from_seed(SecretBytes::random(32)); }

Identity Identity::from_seed(const SecretBytes& seed) {
    if (seed.size() != 32) throw Error(ErrorKind::invalid_argument, "identity seed must be 32 bytes");
    auto sign = SigningKeyPair::from_seed(seed.view());
    auto dh = sign.to_dh();
    return Identity(seed.clone(), std::move(sign), std::move(dh));
}

Identity Identity::from_phrase(std::string_view phrase) {
    auto entropy = phrase_to_entropy(phrase);
    if (entropy.size() != 32) {
        throw Error(ErrorKind::invalid_phrase, "a Veil recovery phrase has 24 words, this one has " +
                                                   std::to_string(entropy.size() * 3 / 4));
    }
    return from_seed(entropy);
}

SecretBytes Identity::recovery_phrase() const { return entropy_to_phrase(seed_.view()); }

}  // namespace veil::crypto
