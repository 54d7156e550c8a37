#include "sealed_blob.hpp"

#include <sodium.h>

#include <algorithm>

namespace veil::attachments {

namespace as = proto::blob;

namespace {

// The stream layout of veil::crypto::FileEncryptor (sdk/crypto file.hpp), written in place here
// so that a 10 MB file is neither copied per chunk nor allocated per chunk.
constexpr std::size_t kPlainChunk = 64 * 1024;
constexpr std::size_t kHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;
static_assert(kHeader == 24 && kOverhead == 17, "sealed_bytes_of_padded assumes these");

}  // namespace

SealedBlob seal(ByteView file) {
    if (sodium_init() < 0) throw SealError("libsodium failed to initialise");
    const std::uint64_t padded = as::padded_bytes(file.size());
    SealedBlob out;
    out.key = crypto::SecretBytes::random(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    out.blob.resize(as::sealed_bytes_of_padded(padded));
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_push(&st, out.blob.data(), out.key.data());
    crypto_generichash_state h;
    crypto_generichash_init(&h, nullptr, 0, out.digest.size());
    crypto_generichash_update(&h, out.blob.data(), kHeader);
    std::vector<std::uint8_t> edge;  // the chunk where the file ends, and padding-only chunks
    std::size_t o = kHeader;
    for (std::uint64_t pos = 0; pos < padded; pos += kPlainChunk) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kPlainChunk, padded - pos));
        const std::uint8_t* src = nullptr;
        if (pos + n <= file.size()) {
            src = file.data() + pos;  // file bytes only: encrypted straight from the input
        } else {
            const std::size_t have = pos < file.size() ? static_cast<std::size_t>(file.size() - pos) : 0;
            edge.assign(n, 0);
            if (have > 0) std::copy_n(file.data() + pos, have, edge.data());
            src = edge.data();
        }
        const unsigned char tag = pos + n == padded ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
        crypto_secretstream_xchacha20poly1305_push(&st, out.blob.data() + o, nullptr, src, n, nullptr, 0, tag);
        crypto_generichash_update(&h, out.blob.data() + o, n + kOverhead);  // while the chunk is in cache
        o += n + kOverhead;
    }
    crypto_generichash_final(&h, out.digest.data(), out.digest.size());
    sodium_memzero(edge.data(), edge.size());
    sodium_memzero(&st, sizeof st);
    out.id = as::blob_id(out.digest);
    out.size_bytes = file.size();
    return out;
}

Bytes open(ByteView blob, const sdk::attachment::AttachmentRef& ref) {
    if (sodium_init() < 0) throw SealError("libsodium failed to initialise");
    if (as::blob_id(ref.digest) != ref.id) throw SealError("the attachment's id does not match its digest");
    const std::uint64_t padded = as::padded_bytes(ref.size_bytes);
    if (blob.size() != as::sealed_bytes_of_padded(padded))
        throw SealError("the attachment has the wrong size (truncated or altered)");
    Bytes plain(padded);
    // Nothing decrypted leaves unless every check passed.
    auto refuse = [&plain](const char* why) {
        sodium_memzero(plain.data(), plain.size());
        throw SealError(std::string("the attachment does not verify: ") + why);
    };
    crypto_generichash_state h;
    crypto_generichash_init(&h, nullptr, 0, 32);
    crypto_generichash_update(&h, blob.data(), kHeader);
    crypto_secretstream_xchacha20poly1305_state st;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, blob.data(), ref.key.data()) != 0) refuse("bad stream header");
    std::size_t i = kHeader, o = 0;
    bool final_seen = false;
    while (i < blob.size()) {
        if (final_seen) refuse("data after the final chunk");
        const std::size_t n = std::min(kPlainChunk + kOverhead, blob.size() - i);
        crypto_generichash_update(&h, blob.data() + i, n);
        unsigned long long m = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&st, plain.data() + o, &m, &tag, blob.data() + i, n, nullptr, 0) != 0)
            refuse("a chunk is altered, reordered or under another key");
        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) final_seen = true;
        else if (tag != 0) refuse("unexpected chunk tag");
        i += n;
        o += static_cast<std::size_t>(m);
    }
    sodium_memzero(&st, sizeof st);
    if (!final_seen) refuse("the stream ends before its final chunk (truncated)");
    Digest d{};
    crypto_generichash_final(&h, d.data(), d.size());
    if (sodium_memcmp(d.data(), ref.digest.data(), d.size()) != 0) refuse("digest mismatch");
    if (!sodium_is_zero(plain.data() + ref.size_bytes, static_cast<std::size_t>(padded - ref.size_bytes)))
        refuse("the padding is not zeros");
    plain.resize(static_cast<std::size_t>(ref.size_bytes));
    return plain;
}

}  // namespace veil::attachments
