#include "sealed_blob.hpp"

#include <sodium.h>

#include <algorithm>

#include "veil/crypto/error.hpp"
#include "veil/crypto/file.hpp"

namespace veil::attachments {

namespace as = attachment_store;

SealedBlob seal(ByteView file) {
    if (sodium_init() < 0) throw SealError("libsodium failed to initialise");
    const std::uint64_t padded = as::padded_bytes(file.size());
    crypto::FileEncryptor enc;
    SealedBlob out;
    out.blob.reserve(as::sealed_bytes_of_padded(padded));
    out.blob = enc.header();
    const std::array<std::uint8_t, crypto::file_chunk_bytes> zeros{};
    crypto::Bytes chunk;
    for (std::uint64_t pos = 0; pos < padded; pos += crypto::file_chunk_bytes) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(crypto::file_chunk_bytes, padded - pos));
        const bool last = pos + n == padded;
        ByteView part;
        if (pos + n <= file.size()) {
            part = file.subspan(static_cast<std::size_t>(pos), n);  // all file bytes: no copy
        } else {
            // The chunk where the file ends, or one of padding only.
            const std::size_t have = pos < file.size() ? static_cast<std::size_t>(file.size() - pos) : 0;
            chunk.assign(zeros.begin(), zeros.begin() + static_cast<std::ptrdiff_t>(n));
            if (have > 0) std::copy_n(file.data() + pos, have, chunk.data());
            part = chunk;
        }
        auto ct = enc.push(part, last);
        out.blob.insert(out.blob.end(), ct.begin(), ct.end());
    }
    sodium_memzero(chunk.data(), chunk.size());
    out.key = enc.key().clone();
    out.digest = enc.digest();
    out.id = as::blob_id(out.digest);
    out.size_bytes = file.size();
    return out;
}

crypto::SecretBytes open(ByteView blob, const sdk::attachment::AttachmentRef& ref) {
    if (as::blob_id(ref.digest) != ref.id) throw SealError("the attachment's id does not match its digest");
    if (blob.size() != as::sealed_bytes_of_padded(as::padded_bytes(ref.size_bytes)))
        throw SealError("the attachment has the wrong size (truncated or altered)");
    crypto::SecretBytes plain;
    try {
        plain = crypto::decrypt_bytes(blob, crypto::SecretBytes::copy_of(ByteView(ref.key.data(), ref.key.size())), ref.digest);
    } catch (const crypto::Error& e) {
        throw SealError(std::string("the attachment does not verify: ") + e.what());
    }
    if (plain.size() < ref.size_bytes) throw SealError("the attachment is shorter than its declared size");
    const auto* tail = plain.data() + ref.size_bytes;
    const std::size_t tail_n = plain.size() - ref.size_bytes;
    if (tail_n > 0 && !sodium_is_zero(tail, tail_n)) throw SealError("the attachment's padding is not zeros");
    if (tail_n == 0) return plain;
    auto out = crypto::SecretBytes::copy_of(ByteView(plain.data(), static_cast<std::size_t>(ref.size_bytes)));
    return out;
}

}  // namespace veil::attachments
