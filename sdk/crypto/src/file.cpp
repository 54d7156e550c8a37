#include "veil/crypto/file.hpp"

#include <sodium.h>

#include <istream>
#include <ostream>

#include "internal.hpp"

namespace veil::crypto {
namespace {

using StreamState = crypto_secretstream_xchacha20poly1305_state;
constexpr std::uint8_t pointer_version = 1;

static_assert(file_header_bytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(file_chunk_overhead == crypto_secretstream_xchacha20poly1305_ABYTES);

StreamState* stream(SecretBytes& s) { return reinterpret_cast<StreamState*>(s.data()); }
crypto_generichash_state* hasher(SecretBytes& s) { return reinterpret_cast<crypto_generichash_state*>(s.data()); }

SecretBytes new_hasher() {
    SecretBytes h(sizeof(crypto_generichash_state));
    crypto_generichash_init(hasher(h), nullptr, 0, 32);
    return h;
}

void hash_update(SecretBytes& h, ByteView b) { crypto_generichash_update(hasher(h), b.data(), b.size()); }

Digest hash_final(SecretBytes& h) {
    Digest d{};
    crypto_generichash_final(hasher(h), d.data(), d.size());
    return d;
}

}  // namespace

FileEncryptor::FileEncryptor()
    : key_(SecretBytes::random(crypto_secretstream_xchacha20poly1305_KEYBYTES)),
      state_(sizeof(StreamState)),
      hash_(new_hasher()),
      header_(file_header_bytes) {
    crypto_secretstream_xchacha20poly1305_init_push(stream(state_), header_.data(), key_.data());
    hash_update(hash_, header_);
}

Bytes FileEncryptor::push(ByteView chunk, bool last) {
    if (finished_) throw Error(ErrorKind::invalid_argument, "file already finished");
    if (chunk.size() > file_chunk_bytes) throw Error(ErrorKind::invalid_argument, "chunk above 64 KiB");
    Bytes out(chunk.size() + file_chunk_overhead);
    std::uint8_t tag = last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
    crypto_secretstream_xchacha20poly1305_push(stream(state_), out.data(), nullptr, chunk.data(), chunk.size(),
                                               nullptr, 0, tag);
    hash_update(hash_, out);
    if (last) {
        finished_ = true;
        digest_ = hash_final(hash_);
    }
    return out;
}

Digest FileEncryptor::digest() const {
    if (!finished_) throw Error(ErrorKind::invalid_argument, "digest before the last chunk");
    return digest_;
}

FileDecryptor::FileDecryptor(const SecretBytes& key, ByteView header, const Digest& expected)
    : state_(sizeof(StreamState)), hash_(new_hasher()), expected_(expected) {
    if (key.size() != crypto_secretstream_xchacha20poly1305_KEYBYTES) {
        throw Error(ErrorKind::invalid_argument, "file key must be 32 bytes");
    }
    if (header.size() != file_header_bytes ||
        crypto_secretstream_xchacha20poly1305_init_pull(stream(state_), header.data(), key.data()) != 0) {
        throw Error(ErrorKind::malformed, "file header is invalid");
    }
    hash_update(hash_, header);
}

SecretBytes FileDecryptor::pull(ByteView chunk) {
    if (finished_) throw Error(ErrorKind::malformed, "data after the final chunk");
    if (chunk.size() < file_chunk_overhead || chunk.size() > file_chunk_bytes + file_chunk_overhead) {
        throw Error(ErrorKind::malformed, "file chunk of impossible size");
    }
    SecretBytes out(chunk.size() - file_chunk_overhead);
    std::uint8_t tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(stream(state_), out.data(), nullptr, &tag, chunk.data(),
                                                   chunk.size(), nullptr, 0) != 0) {
        throw Error(ErrorKind::decrypt_failed, "file chunk does not authenticate (altered or out of order)");
    }
    hash_update(hash_, chunk);
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) finished_ = true;
    else if (tag != 0) throw Error(ErrorKind::malformed, "unexpected chunk tag");
    return out;
}

void FileDecryptor::finish() {
    if (!finished_) throw Error(ErrorKind::truncated, "file ended before its final chunk");
    Digest d = hash_final(hash_);
    if (sodium_memcmp(d.data(), expected_.data(), d.size()) != 0) {
        throw Error(ErrorKind::digest_mismatch, "file digest does not match the pointer");
    }
}

EncryptedFile encrypt_stream(std::istream& in, std::ostream& out) {
    ensure_sodium();
    FileEncryptor enc;
    out.write(reinterpret_cast<const char*>(enc.header().data()), static_cast<std::streamsize>(file_header_bytes));
    SecretBytes buf(file_chunk_bytes);
    EncryptedFile info;
    // Read one chunk ahead so the final tag lands on the last chunk (possibly empty).
    in.read(reinterpret_cast<char*>(buf.data()), file_chunk_bytes);
    std::size_t got = static_cast<std::size_t>(in.gcount());
    while (true) {
        SecretBytes next(file_chunk_bytes);
        std::size_t next_got = 0;
        if (got == file_chunk_bytes) {
            in.read(reinterpret_cast<char*>(next.data()), file_chunk_bytes);
            next_got = static_cast<std::size_t>(in.gcount());
        }
        bool last = next_got == 0;
        auto ct = enc.push(ByteView{buf.data(), got}, last);
        out.write(reinterpret_cast<const char*>(ct.data()), static_cast<std::streamsize>(ct.size()));
        info.size_bytes += got;
        if (last) break;
        buf = std::move(next);
        got = next_got;
    }
    if (!out) throw Error(ErrorKind::invalid_argument, "writing the encrypted file failed");
    info.key = enc.key().clone();
    info.digest = enc.digest();
    return info;
}

void decrypt_stream(std::istream& in, std::ostream& out, const SecretBytes& key, const Digest& digest) {
    ensure_sodium();
    // First pass: the digest, so nothing is written from a file that is not the one referenced.
    auto h = new_hasher();
    Bytes buf(file_chunk_bytes + file_chunk_overhead);
    auto start = in.tellg();
    while (in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        hash_update(h, ByteView{buf.data(), static_cast<std::size_t>(in.gcount())});
    }
    Digest d = hash_final(h);
    if (sodium_memcmp(d.data(), digest.data(), d.size()) != 0) {
        throw Error(ErrorKind::digest_mismatch, "file digest does not match the pointer");
    }
    in.clear();
    in.seekg(start);
    Bytes header(file_header_bytes);
    in.read(reinterpret_cast<char*>(header.data()), static_cast<std::streamsize>(header.size()));
    if (static_cast<std::size_t>(in.gcount()) != file_header_bytes) throw Error(ErrorKind::truncated, "no file header");
    FileDecryptor dec(key, header, digest);
    while (in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        auto plain = dec.pull(ByteView{buf.data(), static_cast<std::size_t>(in.gcount())});
        out.write(reinterpret_cast<const char*>(plain.data()), static_cast<std::streamsize>(plain.size()));
    }
    dec.finish();
}

Bytes encrypt_bytes(ByteView plaintext, EncryptedFile& info) {
    FileEncryptor enc;
    Bytes out = enc.header();
    std::size_t pos = 0;
    do {
        std::size_t n = std::min(file_chunk_bytes, plaintext.size() - pos);
        bool last = pos + n == plaintext.size();
        auto ct = enc.push(plaintext.subspan(pos, n), last);
        out.insert(out.end(), ct.begin(), ct.end());
        pos += n;
        if (last) break;
    } while (true);
    info.key = enc.key().clone();
    info.digest = enc.digest();
    info.size_bytes = plaintext.size();
    return out;
}

SecretBytes decrypt_bytes(ByteView ciphertext, const SecretBytes& key, const Digest& digest) {
    ensure_sodium();
    auto h = new_hasher();
    hash_update(h, ciphertext);
    Digest d = hash_final(h);
    if (sodium_memcmp(d.data(), digest.data(), d.size()) != 0) {
        throw Error(ErrorKind::digest_mismatch, "file digest does not match the pointer");
    }
    if (ciphertext.size() < file_header_bytes) throw Error(ErrorKind::truncated, "no file header");
    FileDecryptor dec(key, ciphertext.first(file_header_bytes), digest);
    const std::size_t chunk = file_chunk_bytes + file_chunk_overhead;
    std::size_t pos = file_header_bytes;
    std::size_t plain_len = 0;
    std::vector<SecretBytes> parts;
    while (pos < ciphertext.size()) {
        std::size_t n = std::min(chunk, ciphertext.size() - pos);
        parts.push_back(dec.pull(ciphertext.subspan(pos, n)));
        plain_len += parts.back().size();
        pos += n;
    }
    dec.finish();
    SecretBytes out(plain_len);
    std::size_t at = 0;
    for (const auto& p : parts) {
        std::copy_n(p.data(), p.size(), out.data() + at);
        at += p.size();
    }
    return out;
}

SecretBytes AttachmentPointer::encode() const {
    if (key.size() != 32) throw Error(ErrorKind::invalid_argument, "attachment key must be 32 bytes");
    if (id.size() > max_id_bytes || content_type.size() > max_content_type_bytes) {
        throw Error(ErrorKind::too_large, "attachment id or content type too long");
    }
    SecretBytes out(1 + 4 + id.size() + 32 + 32 + 8 + 4 + content_type.size());
    detail::SecretWriter w(out);
    w.u8(pointer_version);
    w.var(ByteView{reinterpret_cast<const std::uint8_t*>(id.data()), id.size()});
    w.raw(key.view()).raw(digest).u64(size_bytes);
    w.var(ByteView{reinterpret_cast<const std::uint8_t*>(content_type.data()), content_type.size()});
    return out;
}

AttachmentPointer AttachmentPointer::decode(ByteView bytes) {
    return detail::decoding("attachment pointer", [&] {
        wire::Reader r(bytes);
        detail::expect_version(r, pointer_version, "attachment pointer");
        AttachmentPointer p;
        p.id = r.str(max_id_bytes);
        p.key = SecretBytes::copy_of(r.raw(32));
        auto d = r.raw(32);
        std::copy(d.begin(), d.end(), p.digest.begin());
        p.size_bytes = r.u64();
        p.content_type = r.str(max_content_type_bytes);
        r.expect_done();
        return p;
    });
}

}  // namespace veil::crypto
