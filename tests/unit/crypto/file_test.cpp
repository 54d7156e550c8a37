#include <sstream>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/file.hpp"

using namespace veil::crypto;

namespace {
veil::wire::Bytes pattern(std::size_t n) {
    veil::wire::Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + 7);
    return b;
}

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}

constexpr std::size_t chunk = file_chunk_bytes + file_chunk_overhead;
}  // namespace

TEST_CASE("crypto - attachments round-trip in chunks with a fresh key each", "[crypto]") {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, file_chunk_bytes - 1, file_chunk_bytes,
                          file_chunk_bytes + 1, 3 * file_chunk_bytes + 5}) {
        INFO(n);
        auto plain = pattern(n);
        EncryptedFile info;
        auto ct = encrypt_bytes(plain, info);
        std::size_t chunks = n / file_chunk_bytes + 1;
        if (n != 0 && n % file_chunk_bytes == 0) chunks = n / file_chunk_bytes;
        CHECK(ct.size() == file_header_bytes + n + chunks * file_chunk_overhead);
        CHECK(info.size_bytes == n);
        CHECK(decrypt_bytes(ct, info.key, info.digest).equals(plain));
    }
    EncryptedFile a, b;
    encrypt_bytes(pattern(10), a);
    encrypt_bytes(pattern(10), b);
    CHECK_FALSE(a.key.equals(b.key.view()));
}

TEST_CASE("crypto - attachment truncation, reordering and bit flips are detected", "[crypto]") {
    auto plain = pattern(3 * file_chunk_bytes + 100);
    EncryptedFile info;
    auto ct = encrypt_bytes(plain, info);

    // Flips anywhere fail the digest first.
    for (std::size_t pos : {std::size_t{0}, std::size_t{30}, ct.size() / 2, ct.size() - 1}) {
        auto bad = ct;
        bad[pos] ^= 1;
        CHECK(kind_of([&] { decrypt_bytes(bad, info.key, info.digest); }) == ErrorKind::digest_mismatch);
    }
    // Without the digest shortcut the stream itself still catches everything.
    auto stream_check = [&](const veil::wire::Bytes& bad, const Digest& digest) {
        return kind_of([&] {
            FileDecryptor dec(info.key, veil::wire::ByteView(bad).first(file_header_bytes), digest);
            for (std::size_t pos = file_header_bytes; pos < bad.size(); pos += chunk) {
                dec.pull(veil::wire::ByteView(bad).subspan(pos, std::min(chunk, bad.size() - pos)));
            }
            dec.finish();
        });
    };
    CHECK(stream_check(ct, info.digest) == ErrorKind{});
    auto flipped = ct;
    flipped[file_header_bytes + chunk + 10] ^= 0x80;
    CHECK(stream_check(flipped, info.digest) == ErrorKind::decrypt_failed);
    auto reordered = ct;
    std::swap_ranges(reordered.begin() + file_header_bytes, reordered.begin() + file_header_bytes + chunk,
                     reordered.begin() + file_header_bytes + chunk);
    CHECK(stream_check(reordered, info.digest) == ErrorKind::decrypt_failed);
    auto truncated = ct;
    truncated.resize(file_header_bytes + 2 * chunk);  // whole chunks, final one missing
    CHECK(stream_check(truncated, info.digest) == ErrorKind::truncated);
    CHECK(kind_of([&] { decrypt_bytes(truncated, info.key, info.digest); }) == ErrorKind::digest_mismatch);
    Digest wrong = info.digest;
    wrong[0] ^= 1;
    CHECK(stream_check(ct, wrong) == ErrorKind::digest_mismatch);
    auto other_key = SecretBytes::random(32);
    CHECK(kind_of([&] { decrypt_bytes(ct, other_key, info.digest); }) == ErrorKind::decrypt_failed);
}

TEST_CASE("crypto - attachment streams encrypt and verify before writing", "[crypto]") {
    auto plain = pattern(2 * file_chunk_bytes + 3);
    std::istringstream in(std::string(plain.begin(), plain.end()));
    std::ostringstream enc_out;
    auto info = encrypt_stream(in, enc_out);
    CHECK(info.size_bytes == plain.size());
    std::istringstream ct_in(enc_out.str());
    std::ostringstream out;
    decrypt_stream(ct_in, out, info.key, info.digest);
    CHECK(out.str() == std::string(plain.begin(), plain.end()));

    auto tampered = enc_out.str();
    tampered[tampered.size() / 2] ^= 1;
    std::istringstream bad_in(tampered);
    std::ostringstream bad_out;
    CHECK(kind_of([&] { decrypt_stream(bad_in, bad_out, info.key, info.digest); }) == ErrorKind::digest_mismatch);
    CHECK(bad_out.str().empty());  // nothing written from a file that is not the referenced one
}

TEST_CASE("crypto - attachment pointers round-trip and are length-checked", "[crypto]") {
    AttachmentPointer p;
    p.id = "file-123";
    p.key = SecretBytes::random(32);
    p.digest[0] = 9;
    p.size_bytes = 12345;
    p.content_type = "image/jpeg";
    auto bytes = p.encode();
    auto q = AttachmentPointer::decode(bytes.view());
    CHECK(q.id == p.id);
    CHECK(q.key.equals(p.key.view()));
    CHECK(q.digest == p.digest);
    CHECK(q.size_bytes == p.size_bytes);
    CHECK(q.content_type == p.content_type);
    veil::wire::Bytes cut(bytes.view().begin(), bytes.view().end() - 1);
    CHECK(kind_of([&] { AttachmentPointer::decode(cut); }) == ErrorKind::malformed);
    p.id = std::string(300, 'x');
    CHECK(kind_of([&] { (void)p.encode(); }) == ErrorKind::too_large);
}
