#pragma once
/// Local key wrapping: a random 32-byte database key sealed with a key derived from the user's
/// passphrase by Argon2id (crypto_pwhash, ALG_ARGON2ID13), then XChaCha20-Poly1305.

#include <cstdint>
#include <string_view>

#include "veil/crypto/secret_bytes.hpp"

namespace veil::crypto {

/// Argon2id cost. interactive() is the default; minimum() only for tests.
struct WrapParams final {
    std::uint64_t opslimit = 0;
    std::uint64_t memlimit_bytes = 0;
    static WrapParams interactive();
    static WrapParams moderate();
    static WrapParams minimum();
};

/// 32 random bytes for a SQLCipher raw key.
SecretBytes generate_database_key();
/// Wraps key under passphrase. The blob holds parameters, salt, nonce and ciphertext.
Bytes wrap_key(const SecretBytes& key, std::string_view passphrase,
               const WrapParams& params = WrapParams::interactive());
/// Unwraps, or throws Error{wrong_passphrase} (nothing else is touched) / Error{malformed}.
SecretBytes unwrap_key(ByteView wrapped, std::string_view passphrase);

}  // namespace veil::crypto
