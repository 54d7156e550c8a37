#include "veil/crypto/hkdf.hpp"

#include <sodium.h>

#include <array>

#include "internal.hpp"
#include "veil/crypto/error.hpp"

namespace veil::crypto {

SecretBytes hmac_sha256(ByteView key, ByteView data) {
    ensure_sodium();
    SecretBytes out(crypto_auth_hmacsha256_BYTES);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key.data(), key.size());
    crypto_auth_hmacsha256_update(&st, data.data(), data.size());
    crypto_auth_hmacsha256_final(&st, out.data());
    sodium_memzero(&st, sizeof st);
    return out;
}

SecretBytes hkdf_extract(ByteView salt, ByteView ikm) {
    static const std::array<std::uint8_t, 32> zero_salt{};
    return hmac_sha256(salt.empty() ? ByteView{zero_salt} : salt, ikm);
}

SecretBytes hkdf_expand(ByteView prk, ByteView info, std::size_t length) {
    ensure_sodium();
    constexpr std::size_t hash_len = crypto_auth_hmacsha256_BYTES;
    if (length > 255 * hash_len) {
        throw Error(ErrorKind::invalid_argument, "hkdf: output longer than 255 * 32 bytes");
    }
    if (prk.size() < hash_len) throw Error(ErrorKind::invalid_argument, "hkdf: PRK too short");
    SecretBytes out(length);
    SecretBytes t(hash_len);
    std::size_t t_len = 0;
    std::size_t done = 0;
    for (std::uint8_t counter = 1; done < length; ++counter) {
        // T(i) = HMAC(PRK, T(i-1) || info || i)
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, prk.data(), prk.size());
        crypto_auth_hmacsha256_update(&st, t.data(), t_len);
        crypto_auth_hmacsha256_update(&st, info.data(), info.size());
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t.data());
        sodium_memzero(&st, sizeof st);
        t_len = hash_len;
        std::size_t n = std::min(hash_len, length - done);
        std::copy_n(t.data(), n, out.data() + done);
        done += n;
    }
    return out;
}

void detail::hkdf_into(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out) {
    constexpr std::size_t hash_len = crypto_auth_hmacsha256_BYTES;
    if (out.size() > 255 * hash_len) throw Error(ErrorKind::invalid_argument, "hkdf: output too long");
    static const std::array<std::uint8_t, 32> zero_salt{};
    if (salt.empty()) salt = zero_salt;
    std::uint8_t prk[hash_len];
    std::uint8_t t[hash_len];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, salt.data(), salt.size());
    crypto_auth_hmacsha256_update(&st, ikm.data(), ikm.size());
    crypto_auth_hmacsha256_final(&st, prk);
    std::size_t t_len = 0;
    std::size_t done = 0;
    for (std::uint8_t counter = 1; done < out.size(); ++counter) {
        crypto_auth_hmacsha256_init(&st, prk, hash_len);
        crypto_auth_hmacsha256_update(&st, t, t_len);
        crypto_auth_hmacsha256_update(&st, info.data(), info.size());
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        t_len = hash_len;
        std::size_t n = std::min(hash_len, out.size() - done);
        std::copy_n(t, n, out.data() + done);
        done += n;
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
}

SecretBytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length) {
    auto prk = hkdf_extract(salt, ikm);
    return hkdf_expand(prk.view(), info, length);
}

}  // namespace veil::crypto
