#pragma once
/// An attachment as stored: the file padded with zeros to its size bucket (padded_bytes), then
/// encrypted with a fresh key by libsodium's secretstream in 64 KiB chunks, the last tagged
/// FINAL (the layout of veil::crypto::FileEncryptor; decrypt_bytes opens it too). Digest = BLAKE2b-256 of the whole blob; id = blob_id(digest).
/// Opening checks the digest first, then every chunk and the final tag, then that the padding
/// is all zeros: any failure throws SealError and yields no plaintext.

#include <stdexcept>

#include "veil/proto/blob_rpc.hpp"
#include "veil/crypto/secret_bytes.hpp"
#include "veil/sdk/attachment.hpp"

namespace veil::attachments {

using proto::blob::BlobId;
using proto::blob::Digest;
using wire::Bytes;
using wire::ByteView;

/// Why a blob could not be opened (tampered, truncated, wrong key or digest); the message is
/// for people and holds nothing secret.
class SealError final : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A sealed file: the blob to upload and what the ref needs.
struct SealedBlob {
    Bytes blob;
    crypto::SecretBytes key;  ///< 32 bytes, guarded memory
    Digest digest{};
    BlobId id{};
    std::uint64_t size_bytes = 0;  ///< the file's size before padding
};

/// Pads and encrypts `file` with a fresh key.
SealedBlob seal(ByteView file);
/// Verifies and decrypts a blob for `ref` (id, digest, key, size); throws SealError (and wipes
/// what it decrypted). The same stream layout as veil::crypto::FileEncryptor, written in place.
Bytes open(ByteView blob, const sdk::attachment::AttachmentRef& ref);

}  // namespace veil::attachments
