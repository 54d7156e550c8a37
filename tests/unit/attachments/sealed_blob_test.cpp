// The sealed attachment format: pad + secretstream round trip, and every way a blob can be
// wrong (tampered, truncated, wrong key, wrong digest, bad padding) refused with no plaintext.

#include <catch2/catch.hpp>

#include <sodium.h>

#include "sealed_blob.hpp"
#include "veil/crypto/file.hpp"

using namespace veil;
using namespace veil::attachments;
namespace as = veil::proto::blob;

namespace {

Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    if (n > 0) randombytes_buf(b.data(), b.size());
    return b;
}

sdk::attachment::AttachmentRef ref_of(const SealedBlob& s) {
    sdk::attachment::AttachmentRef r;
    r.id = s.id;
    r.digest = s.digest;
    std::copy_n(s.key.data(), 32, r.key.begin());
    r.size_bytes = s.size_bytes;
    return r;
}

}  // namespace

TEST_CASE("attachments - seal and open round trip at bucket edges", "[attachments]") {
    REQUIRE(sodium_init() >= 0);
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{541}, std::size_t{542}, std::size_t{65536},
                          std::size_t{65537}, std::size_t{300'000}}) {
        auto file = random_bytes(n);
        auto s = seal(file);
        CAPTURE(n);
        CHECK(s.blob.size() == as::sealed_bytes_of_padded(as::padded_bytes(n)));
        CHECK(s.id == as::blob_id(s.digest));
        CHECK(as::blob_digest(s.blob) == s.digest);
        auto plain = open(s.blob, ref_of(s));
        REQUIRE(plain.size() == n);
        CHECK(std::equal(file.begin(), file.end(), plain.data()));
    }
}

TEST_CASE("attachments - padding hides the exact size: nearby sizes share a bucket", "[attachments]") {
    CHECK(as::padded_bytes(0) == 541);
    CHECK(as::padded_bytes(100) == 541);
    auto b = as::padded_bytes(1'000'000);
    CHECK(b >= 1'000'000);
    CHECK(b < 1'050'001);
    CHECK(as::padded_bytes(b) == b);
    CHECK(as::padded_bytes(b - 1000) == b);
    // Every bucket is at most 5% above the size (past the smallest).
    for (std::uint64_t n = 600; n < 20'000'000; n = n * 3 / 2) CHECK(as::padded_bytes(n) <= n + n / 20 + 1);
    CHECK(as::max_stored_bytes(10ull << 20) > (10ull << 20));
}

TEST_CASE("attachments - a tampered byte anywhere is refused", "[attachments]") {
    auto file = random_bytes(200'000);
    auto s = seal(file);
    auto ref = ref_of(s);
    for (std::size_t pos : {std::size_t{0}, std::size_t{30}, s.blob.size() / 2, s.blob.size() - 1}) {
        auto bad = s.blob;
        bad[pos] ^= 0x01;
        CAPTURE(pos);
        CHECK_THROWS_AS(open(bad, ref), SealError);
    }
    // Re-digested after tampering (as a lying store would): the stream itself refuses it.
    auto bad = s.blob;
    bad[bad.size() / 2] ^= 0x80;
    auto lying = ref;
    lying.digest = as::blob_digest(bad);
    lying.id = as::blob_id(lying.digest);
    CHECK_THROWS_WITH(open(bad, lying), Catch::Contains("does not verify"));
}

TEST_CASE("attachments - a truncated blob is refused, even with a matching digest", "[attachments]") {
    auto file = random_bytes(150'000);
    auto s = seal(file);
    auto ref = ref_of(s);
    Bytes cut(s.blob.begin(), s.blob.end() - 100);
    CHECK_THROWS_AS(open(cut, ref), SealError);
    // Cut at a chunk boundary (the final tag is lost) and the digest recomputed.
    Bytes whole_chunks(s.blob.begin(), s.blob.begin() + 24 + 2 * (65536 + 17));
    auto lying = ref;
    lying.digest = as::blob_digest(whole_chunks);
    lying.id = as::blob_id(lying.digest);
    lying.size_bytes = 2 * 65536 - 1000;
    while (as::sealed_bytes_of_padded(as::padded_bytes(lying.size_bytes)) != whole_chunks.size() &&
           lying.size_bytes > 0)
        --lying.size_bytes;
    CHECK_THROWS_AS(open(whole_chunks, lying), SealError);
}

TEST_CASE("attachments - the wrong key or a wrong digest is refused", "[attachments]") {
    auto s = seal(random_bytes(70'000));
    auto ref = ref_of(s);
    auto wrong_key = ref;
    wrong_key.key[0] ^= 1;
    CHECK_THROWS_WITH(open(s.blob, wrong_key), Catch::Contains("does not verify"));
    auto wrong_digest = ref;
    wrong_digest.digest[5] ^= 1;
    CHECK_THROWS_WITH(open(s.blob, wrong_digest), Catch::Contains("id does not match"));
    wrong_digest.id = as::blob_id(wrong_digest.digest);
    CHECK_THROWS_AS(open(s.blob, wrong_digest), SealError);
    auto wrong_size = ref;
    wrong_size.size_bytes += 10'000;
    CHECK_THROWS_WITH(open(s.blob, wrong_size), Catch::Contains("wrong size"));
}

TEST_CASE("attachments - each file gets a fresh key", "[attachments]") {
    auto file = random_bytes(1000);
    auto a = seal(file);
    auto b = seal(file);
    CHECK_FALSE(a.key.equals(b.key.view()));
    CHECK(a.id != b.id);
}

TEST_CASE("attachments - the blob is the SDK's file stream format (crypto::decrypt_bytes opens it)", "[attachments]") {
    auto file = random_bytes(140'000);
    auto s = seal(file);
    auto plain = crypto::decrypt_bytes(s.blob, s.key, s.digest);
    REQUIRE(plain.size() == as::padded_bytes(file.size()));
    CHECK(std::equal(file.begin(), file.end(), plain.data()));
}
