// The node's blob store on disk: chunked, idempotent, readable only once complete and matching
// its digest; limits; expiry; blobs survive a reopen, partial uploads do not.

#include <catch2/catch.hpp>

#include <sodium.h>
#include <unistd.h>

#include <filesystem>

#include "blob_store.hpp"

using namespace veil;
using namespace veil::attachment_store;
namespace fs = std::filesystem;

namespace {

struct Dir {
    fs::path path = fs::temp_directory_path() / ("veil-blob-store-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(randombytes_random()));
    ~Dir() { fs::remove_all(path); }
};

Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    if (n > 0) randombytes_buf(b.data(), b.size());
    return b;
}

PutRequest chunk_of(const Bytes& blob, std::uint32_t index) {
    PutRequest p;
    p.digest = blob_digest(blob);
    p.id = blob_id(p.digest);
    p.total_bytes = blob.size();
    p.index = index;
    auto n = chunk_size(blob.size(), index);
    p.bytes.assign(blob.begin() + static_cast<std::ptrdiff_t>(std::uint64_t{index} * kChunkBytes),
                   blob.begin() + static_cast<std::ptrdiff_t>(std::uint64_t{index} * kChunkBytes + n));
    return p;
}

StoreLimits limits() {
    StoreLimits l;
    l.max_blob_bytes = 2'000'000;
    l.expiry_ms = 10'000;
    return l;
}

Bytes read_all(BlobStore& s, const BlobId& id, std::uint64_t now) {
    Bytes out;
    for (std::uint32_t i = 0;; ++i) {
        auto r = s.get(GetRequest{id, i}, now);
        REQUIRE(r.status == Status::ok);
        const auto& g = std::get<GetResponse>(r.body);
        out.insert(out.end(), g.bytes.begin(), g.bytes.end());
        if (i + 1 == chunk_count(g.total_bytes)) return out;
    }
}

}  // namespace

TEST_CASE("attachment-store - chunks in any order, repeated, make one readable blob", "[attachments]") {
    REQUIRE(sodium_init() >= 0);
    Dir dir;
    BlobStore s(dir.path, limits());
    auto blob = random_bytes(3 * kChunkBytes + 123);
    auto id = blob_id(blob_digest(blob));
    for (std::uint32_t i : {3u, 1u, 1u, 0u}) {
        auto out = s.put(chunk_of(blob, i), 1000);
        REQUIRE(out.response.status == Status::ok);
        CHECK_FALSE(std::get<PutResponse>(out.response.body).complete);
        CHECK(s.get(GetRequest{id, 0}, 1000).status == Status::not_found);  // not before complete
    }
    auto last = s.put(chunk_of(blob, 2), 1000);
    REQUIRE(last.response.status == Status::ok);
    CHECK(std::get<PutResponse>(last.response.body).complete);
    CHECK(last.completed_now);
    CHECK(last.expiry_ms == 11'000);
    CHECK(read_all(s, id, 2000) == blob);
    // A retried chunk after completion changes nothing and is not "completed" again.
    auto again = s.put(chunk_of(blob, 0), 3000);
    CHECK(std::get<PutResponse>(again.response.body).complete);
    CHECK_FALSE(again.completed_now);
    CHECK(s.count() == 1);
}

TEST_CASE("attachment-store - a blob that does not match its digest is discarded", "[attachments]") {
    Dir dir;
    BlobStore s(dir.path, limits());
    auto blob = random_bytes(kChunkBytes + 10);
    auto c0 = chunk_of(blob, 0);
    auto c1 = chunk_of(blob, 1);
    c1.bytes[3] ^= 1;  // the uploader (or the path) altered a byte
    REQUIRE(s.put(c0, 1000).response.status == Status::ok);
    auto out = s.put(c1, 1000);
    CHECK(out.response.status == Status::digest_mismatch);
    CHECK(s.get(GetRequest{c0.id, 0}, 1000).status == Status::not_found);
    // The right bytes afterwards make it complete (the bad upload left nothing behind).
    REQUIRE(s.put(c0, 1000).response.status == Status::ok);
    CHECK(std::get<PutResponse>(s.put(chunk_of(blob, 1), 1000).response.body).complete);
}

TEST_CASE("attachment-store - limits: size, an id not of its digest", "[attachments]") {
    Dir dir;
    BlobStore s(dir.path, limits());
    auto big = random_bytes(2'000'001);
    CHECK(s.put(chunk_of(big, 0), 1000).response.status == Status::too_large);
    auto blob = random_bytes(100);
    auto p = chunk_of(blob, 0);
    p.id[0] ^= 1;
    CHECK(s.put(p, 1000).response.status == Status::bad_request);
}

TEST_CASE("attachment-store - expiry, sweep and reopen", "[attachments]") {
    Dir dir;
    auto blob = random_bytes(5000);
    auto partial = random_bytes(kChunkBytes + 1);
    auto id = blob_id(blob_digest(blob));
    {
        BlobStore s(dir.path, limits());
        REQUIRE(s.put(chunk_of(blob, 0), 1000).completed_now);
        REQUIRE(s.put(chunk_of(partial, 0), 1000).response.status == Status::ok);
    }
    BlobStore s(dir.path, limits());  // reopened: the complete blob is back, the partial is gone
    CHECK(s.has(id, 5000));
    CHECK(s.count() == 1);
    CHECK(fs::is_empty(dir.path / "parts"));
    CHECK(s.get(GetRequest{id, 0}, 10'999).status == Status::ok);
    CHECK(s.get(GetRequest{id, 0}, 11'000).status == Status::not_found);  // expired: never served
    CHECK(s.sweep(11'000) == 1);
    CHECK(fs::is_empty(dir.path / "blobs"));
    // A replica keeps the origin's earlier expiry.
    auto r = chunk_of(blob, 0);
    r.replica = true;
    r.expiry_ms = 12'000;
    CHECK(s.put(r, 11'000).expiry_ms == 12'000);
}

TEST_CASE("attachment-store - list pages in id order and what is missing", "[attachments]") {
    Dir dir;
    std::vector<BlobId> ids;
    std::vector<BlobEntry> entries;
    {
        BlobStore s(dir.path, limits());
        for (int i = 0; i < 5; ++i) {
            auto blob = random_bytes(1000 + static_cast<std::size_t>(i));
            auto c = chunk_of(blob, 0);
            REQUIRE(s.put(c, 1000).completed_now);
            ids.push_back(c.id);
            entries.push_back(BlobEntry{c.id, c.digest, c.total_bytes, 11'000});
        }
    }
    std::sort(ids.begin(), ids.end());
    BlobStore s(dir.path, limits());  // the digest comes back from the file name
    auto first = s.list(std::nullopt, 3, 2000);
    REQUIRE(first.blobs.size() == 3);
    CHECK(first.more);
    CHECK(first.blobs[0].id == ids[0]);
    CHECK(first.blobs[0].digest != Digest{});
    CHECK(blob_id(first.blobs[0].digest) == first.blobs[0].id);
    auto second = s.list(first.blobs.back().id, 3, 2000);
    REQUIRE(second.blobs.size() == 2);
    CHECK_FALSE(second.more);
    CHECK(second.blobs[1].id == ids[4]);
    CHECK(s.list(std::nullopt, 10, 11'000).blobs.empty());  // expired ones are not listed

    Dir other_dir;
    BlobStore other(other_dir.path, limits());
    CHECK(other.missing(entries, 2000).size() == 5);
    CHECK(s.missing(entries, 2000).empty());
    CHECK(other.missing(entries, 11'000).empty());  // expired: not worth fetching
}

TEST_CASE("attachment-store - one source holds at most its share of the upload slots", "[attachments]") {
    Dir d;
    auto l = limits();
    l.max_pending = 8;
    l.max_pending_per_source = 2;
    BlobStore s(d.path, l);
    auto start = [&](const std::string& source) {
        return s.put(chunk_of(random_bytes(2 * kChunkBytes), 0), 1000, source).response;
    };
    // However many connections a host opens, its uploads count together.
    CHECK(start("host a").status == Status::ok);
    CHECK(start("host a").status == Status::ok);
    auto refused = start("host a");
    CHECK(refused.status == Status::not_ready);
    CHECK_THAT(refused.message, Catch::Contains("this source has too many uploads"));
    CHECK(start("host b").status == Status::ok);
}
