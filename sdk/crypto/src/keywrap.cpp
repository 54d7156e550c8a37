#include "veil/crypto/keywrap.hpp"

#include <sodium.h>

#include "internal.hpp"

namespace veil::crypto {
namespace {

constexpr std::uint8_t wrap_version = 1;
constexpr std::uint8_t alg_argon2id13 = 1;
constexpr std::size_t salt_bytes = crypto_pwhash_SALTBYTES;  // 16
constexpr std::size_t nonce_bytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_bytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::uint64_t max_opslimit = 16;
constexpr std::uint64_t max_memlimit = 1ULL << 30;

SecretBytes derive_kek(std::string_view passphrase, ByteView salt, std::uint64_t ops, std::uint64_t mem) {
    SecretBytes kek(32);
    if (crypto_pwhash(kek.data(), kek.size(), passphrase.data(), passphrase.size(), salt.data(), ops,
                      static_cast<std::size_t>(mem), crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw Error(ErrorKind::too_large, "Argon2id ran out of memory");
    }
    return kek;
}

}  // namespace

WrapParams WrapParams::interactive() {
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
WrapParams WrapParams::moderate() { return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE}; }
WrapParams WrapParams::minimum() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

SecretBytes generate_database_key() { return SecretBytes::random(32); }

Bytes wrap_key(const SecretBytes& key, std::string_view passphrase, const WrapParams& params) {
    ensure_sodium();
    if (key.empty() || key.size() > 64) throw Error(ErrorKind::invalid_argument, "wrapped key must be 1..64 bytes");
    if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > max_opslimit ||
        params.memlimit_bytes < crypto_pwhash_MEMLIMIT_MIN || params.memlimit_bytes > max_memlimit) {
        throw Error(ErrorKind::invalid_argument, "Argon2id parameters out of range");
    }
    std::uint8_t salt[salt_bytes];
    std::uint8_t nonce[nonce_bytes];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    wire::Writer w;
    w.u8(wrap_version).u8(alg_argon2id13).u64(params.opslimit).u64(params.memlimit_bytes);
    w.raw(salt).raw(nonce);
    Bytes ad = w.bytes();
    auto kek = derive_kek(passphrase, salt, params.opslimit, params.memlimit_bytes);
    Bytes ct(key.size() + tag_bytes);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, key.data(), key.size(), ad.data(), ad.size(),
                                               nullptr, nonce, kek.data());
    w.var(ct);
    return w.take();
}

SecretBytes unwrap_key(ByteView wrapped, std::string_view passphrase) {
    ensure_sodium();
    return detail::decoding("wrapped key", [&] {
        wire::Reader r(wrapped);
        detail::expect_version(r, wrap_version, "wrapped key");
        if (r.u8() != alg_argon2id13) throw wire::DecodeError("unknown key derivation");
        std::uint64_t ops = r.u64();
        std::uint64_t mem = r.u64();
        if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > max_opslimit || mem < crypto_pwhash_MEMLIMIT_MIN ||
            mem > max_memlimit) {
            throw wire::DecodeError("Argon2id parameters out of range");
        }
        auto salt = r.raw(salt_bytes);
        auto nonce = r.raw(nonce_bytes);
        std::size_t header_len = wrapped.size() - r.remaining();
        auto ct = r.var(64 + tag_bytes);
        r.expect_done();
        if (ct.size() <= tag_bytes) throw wire::DecodeError("wrapped key too short");
        auto kek = derive_kek(passphrase, salt, ops, mem);
        SecretBytes key(ct.size() - tag_bytes);
        unsigned long long len = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(key.data(), &len, nullptr, ct.data(), ct.size(),
                                                       wrapped.data(), header_len, nonce.data(), kek.data()) != 0) {
            throw Error(ErrorKind::wrong_passphrase, "wrong passphrase (or the wrapped key was altered)");
        }
        return key;
    });
}

}  // namespace veil::crypto
