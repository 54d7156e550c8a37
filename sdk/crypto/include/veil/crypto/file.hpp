#pragma once
/// Attachment encryption: libsodium secretstream (XChaCha20-Poly1305) in 64 KiB chunks, a fresh
/// random key per file, the last chunk tagged FINAL, and a BLAKE2b-256 digest of the whole
/// ciphertext (header || chunks) carried in the attachment pointer. Truncation, reordering,
/// dropped or flipped bytes all fail.

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "veil/crypto/secret_bytes.hpp"

namespace veil::crypto {

inline constexpr std::size_t file_chunk_bytes = 64 * 1024;   ///< plaintext per chunk
inline constexpr std::size_t file_header_bytes = 24;         ///< secretstream header
inline constexpr std::size_t file_chunk_overhead = 17;       ///< per-chunk tag + MAC
using Digest = std::array<std::uint8_t, 32>;

/// Encrypts one file chunk by chunk with a fresh key. Move-only; not thread-safe.
class FileEncryptor final {
public:
    FileEncryptor();
    [[nodiscard]] const SecretBytes& key() const { return key_; }
    /// The 24-byte stream header, first in the ciphertext.
    [[nodiscard]] const Bytes& header() const { return header_; }
    /// Encrypts up to file_chunk_bytes; last = true for the final chunk (may be empty).
    Bytes push(ByteView chunk, bool last);
    /// BLAKE2b-256 of header and every chunk; Error{invalid_argument} before the last push.
    [[nodiscard]] Digest digest() const;

private:
    SecretBytes key_;
    SecretBytes state_;
    SecretBytes hash_;
    Bytes header_;
    bool finished_ = false;
    Digest digest_{};
};

/// Decrypts chunk by chunk. Plaintext is not trustworthy until finish() returns.
class FileDecryptor final {
public:
    /// Error{invalid_argument} for a wrong key size, Error{malformed} for a bad header.
    FileDecryptor(const SecretBytes& key, ByteView header, const Digest& expected);
    /// One ciphertext chunk (plaintext + 17 bytes) -> plaintext. Error{decrypt_failed} on a
    /// flipped, reordered or foreign chunk; Error{malformed} on a chunk after FINAL.
    SecretBytes pull(ByteView chunk);
    /// Error{truncated} if FINAL was not seen, Error{digest_mismatch} if the digest differs.
    void finish();

private:
    SecretBytes state_;
    SecretBytes hash_;
    Digest expected_{};
    bool finished_ = false;
};

/// Result of encrypting a whole file.
struct EncryptedFile final {
    SecretBytes key;
    Digest digest{};
    std::uint64_t size_bytes = 0;  ///< plaintext size
};

/// Encrypts in to out in chunks.
EncryptedFile encrypt_stream(std::istream& in, std::ostream& out);
/// Checks the digest of in first (it must be seekable), then decrypts to out.
void decrypt_stream(std::istream& in, std::ostream& out, const SecretBytes& key,
                    const Digest& digest);
/// In-memory helpers over the same format.
Bytes encrypt_bytes(ByteView plaintext, EncryptedFile& info);
SecretBytes decrypt_bytes(ByteView ciphertext, const SecretBytes& key, const Digest& digest);

/// What a message carries to reference an uploaded attachment.
struct AttachmentPointer final {
    static constexpr std::size_t max_id_bytes = 256;
    static constexpr std::size_t max_content_type_bytes = 128;
    std::string id;            ///< where the file store keeps the ciphertext
    SecretBytes key;           ///< 32-byte file key
    Digest digest{};           ///< BLAKE2b-256 of the ciphertext
    std::uint64_t size_bytes = 0;
    std::string content_type;

    /// Holds the key, so guarded.
    [[nodiscard]] SecretBytes encode() const;
    /// Throws Error{malformed}.
    static AttachmentPointer decode(ByteView bytes);
};

}  // namespace veil::crypto
