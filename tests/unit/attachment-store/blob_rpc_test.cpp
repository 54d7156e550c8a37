// The attachment store's wire protocol: round trips, and malformed requests refused.

#include <catch2/catch.hpp>

#include "veil/proto/blob_rpc.hpp"

using namespace veil;
using namespace veil::proto::blob;

TEST_CASE("attachment-store - requests and responses round trip", "[attachments]") {
    PutRequest p;
    p.digest[0] = 7;
    p.id = blob_id(p.digest);
    p.total_bytes = kChunkBytes + 10;
    p.index = 1;
    p.bytes.assign(10, 0xab);
    p.replica = true;
    p.expiry_ms = 1234;
    auto back = std::get<PutRequest>(decode_request(encode_request(p)));
    CHECK(back.id == p.id);
    CHECK(back.digest == p.digest);
    CHECK(back.total_bytes == p.total_bytes);
    CHECK(back.index == 1);
    CHECK(back.bytes == p.bytes);
    CHECK(back.replica);
    CHECK(back.expiry_ms == 1234);

    auto g = std::get<GetRequest>(decode_request(encode_request(GetRequest{p.id, 3})));
    CHECK(g.index == 3);

    Response ok;
    ok.body = PutResponse{true, 2, 2};
    auto pr = decode_response(Method::put, encode_response(ok));
    CHECK(std::get<PutResponse>(pr.body).complete);
    Response gr;
    gr.body = GetResponse{100, 99, 0, Bytes(100, 1)};
    CHECK(std::get<GetResponse>(decode_response(Method::get, encode_response(gr)).body).bytes.size() == 100);
    auto err = decode_response(Method::get, encode_response(error(Status::not_found, "gone")));
    CHECK(err.status == Status::not_found);
    CHECK(err.message == "gone");
}

TEST_CASE("attachment-store - malformed requests are refused", "[attachments]") {
    PutRequest p;
    p.total_bytes = 100;
    p.bytes.assign(100, 1);
    auto good = encode_request(p);
    CHECK_NOTHROW(decode_request(good));
    for (std::size_t cut = 0; cut < good.size(); cut += 7) {
        CHECK_THROWS_AS(decode_request(ByteView(good.data(), cut)), wire::DecodeError);
    }
    auto extra = good;
    extra.push_back(0);
    CHECK_THROWS_AS(decode_request(extra), wire::DecodeError);
    p.bytes.assign(99, 1);  // not the chunk's size
    CHECK_THROWS_AS(decode_request(encode_request(p)), wire::DecodeError);
    p.bytes.assign(100, 1);
    p.index = 1;  // past the last chunk
    CHECK_THROWS_AS(decode_request(encode_request(p)), wire::DecodeError);
    p.index = 0;
    p.total_bytes = kMaxBlobBytes + 1;
    CHECK_THROWS_AS(decode_request(encode_request(p)), wire::DecodeError);
    CHECK_THROWS_AS(decode_request(Bytes{2, 1}), wire::DecodeError);  // unknown version
    CHECK_THROWS_AS(decode_request(Bytes{1, 9}), wire::DecodeError);  // unknown method
    CHECK_THROWS_AS(decode_response(Method::put, Bytes{1, 0}), wire::DecodeError);  // status zero
}

TEST_CASE("attachment-store - list requests and pages round trip; the signature covers every field", "[attachments]") {
    ListRequest q;
    q.after = BlobId{};
    (*q.after)[3] = 9;
    q.max_count = 10;
    q.requester[0] = 1;
    q.timestamp_ms = 42;
    q.signature[7] = 7;
    auto back = std::get<ListRequest>(decode_request(encode_request(q)));
    CHECK(back.after == q.after);
    CHECK(back.max_count == 10);
    CHECK(back.requester == q.requester);
    CHECK(back.timestamp_ms == 42);
    CHECK(back.signature == q.signature);
    auto signed_bytes = list_signed_bytes(q);
    for (auto change : {0, 1, 2}) {
        auto other = q;
        if (change == 0) other.after.reset();
        if (change == 1) other.timestamp_ms++;
        if (change == 2) other.requester[5] ^= 1;
        CHECK(list_signed_bytes(other) != signed_bytes);
    }
    q.max_count = 0;
    CHECK_THROWS_AS(decode_request(encode_request(q)), wire::DecodeError);
    q.max_count = kMaxListCount + 1;
    CHECK_THROWS_AS(decode_request(encode_request(q)), wire::DecodeError);

    Response page;
    page.body = ListResponse{{BlobEntry{BlobId{}, Digest{}, 100, 5}, BlobEntry{BlobId{}, Digest{}, 200, 6}}, true};
    auto p = std::get<ListResponse>(decode_response(Method::list, encode_response(page)).body);
    CHECK(p.blobs.size() == 2);
    CHECK(p.blobs[1].total_bytes == 200);
    CHECK(p.more);
}
