#pragma once
// The key file beside the database: the 32-byte SQLCipher raw key, either as is (file mode
// 0600) or wrapped by the user's passphrase (Argon2id + XChaCha20-Poly1305, crypto/keywrap).
// During a key rotation it holds the next key too, so a crash at any point leaves a key that
// opens the database. Format in docs/storage.md ("Key file").
#include <cstdint>
#include <filesystem>

#include "veil/crypto/keywrap.hpp"
#include "veil/crypto/secret_bytes.hpp"
#include "veil/wire/codec.hpp"

namespace veil::sqlcipher {

/// How the key is kept in the file. Zero is never valid.
enum class Protection : std::uint8_t {
    none = 1,        ///< raw key in a 0600 file
    passphrase = 2,  ///< wrapped by an Argon2id-derived key
};

/// SQLCipher settings the database was made with: 1 = SQLCipher 3.4 defaults (AES-256-CBC,
/// HMAC-SHA1 per page), raw key, cipher_page_size 4096.
inline constexpr std::uint8_t kCipherProfile = 1;
/// Size of a database key.
inline constexpr std::size_t kKeyBytes = 32;
/// Largest key file we read (a real one is under 200 bytes).
inline constexpr std::size_t kMaxKeyFileBytes = 4096;

/// The key material in a key file.
struct KeyMaterial {
    crypto::SecretBytes current;  ///< opens the database (32 bytes)
    crypto::SecretBytes next;     ///< empty, or the key a rotation in progress is moving to
};

/// A decoded but unopened key file; `payload` points into the parsed bytes.
struct KeyFileView {
    Protection protection = Protection::none;
    std::uint8_t cipher_profile = 0;
    wire::ByteView payload;
};

/// Decodes untrusted bytes. Throws Error{damaged_key_file} naming what is wrong.
KeyFileView parse_key_file(wire::ByteView bytes);

/// Opens a parsed key file. `passphrase` may be null for Protection::none (it is ignored then).
/// Throws Error{passphrase_required}, Error{wrong_passphrase} or Error{damaged_key_file}.
KeyMaterial open_key_file(const KeyFileView& file, const crypto::SecretBytes* passphrase);

/// Encodes key material; wrapped under `passphrase` when it is non-null, else stored as is.
/// The result holds the raw key when unwrapped, hence guarded memory.
crypto::SecretBytes seal_key_file(const KeyMaterial& keys, const crypto::SecretBytes* passphrase,
                                  const crypto::WrapParams& params);

/// Reads a key file into guarded memory. Throws Error{io} (or damaged_key_file if too big).
crypto::SecretBytes read_key_file(const std::filesystem::path& path);

/// Replaces `path` atomically with `bytes` in a 0600 file (temp file PATH.tmp.<pid>, fsync,
/// rename, fsync dir).
void write_key_file(const std::filesystem::path& path, wire::ByteView bytes);

}  // namespace veil::sqlcipher
