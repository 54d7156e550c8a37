#include <catch2/catch.hpp>

#include <algorithm>

#include "veil/proto/node_rpc.hpp"

using namespace veil::proto::node;
using veil::wire::DecodeError;

namespace {

PublicKey key(std::uint8_t b) {
    PublicKey k{};
    k.fill(b);
    return k;
}

Request round_trip(const Request& r) { return decode_request(encode_request(r)); }

}  // namespace

TEST_CASE("rpc - every request round-trips", "[node][rpc]") {
    OwnerAuth auth{1234, {}};
    auth.signature.fill(9);
    PageQuery page{Hash{}, 10, 4096};
    std::vector<RequestBody> bodies{
        StoreRequest{key(1), 3, 60000, {1, 2, 3}},
        StoreRequest{key(1), 0x8001, 60000, {1, 2, 3}, auth},
        StoreRequest{key(1), 0, 60000, {1, 2, 3}, std::nullopt, StoreWork{1'700'000'000'000, 0xDEADBEEFULL}},
        StoreRequest{key(1), 0, 60000, {1, 2, 3}, auth, StoreWork{1, 7}},
        RetrieveRequest{key(1), 3, page, auth},
        RetrieveRequest{key(1), 3, PageQuery{}, auth},
        DeleteRequest{key(2), 0, {Hash{}, key(5)}, auth},
        ExpireRequest{key(2), 1, {key(6)}, 99999, auth},
        GetSwarmRequest{key(3)},
        InfoRequest{},
        SubscribeRequest{key(4), 2, page, 30000, auth},
        GetManifestRequest{},
        GetManifestRequest{41},
        PeerRequest{{7, 7, 7}},
        ChallengeRequest{key(7), key(8)},
    };
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        Request r{static_cast<std::uint32_t>(i + 100), bodies[i]};
        auto back = round_trip(r);
        CHECK(back.id == r.id);
        CHECK(method_of(back.body) == method_of(r.body));
        CHECK(encode_request(back) == encode_request(r));
    }
}

TEST_CASE("rpc - responses round-trip, errors carry a message, wrong_swarm names the swarm", "[node][rpc]") {
    Response store{1, Status::ok, StoreResponse{key(1), true, 77}};
    auto s = decode_response(Method::store, encode_response(Method::store, store));
    CHECK(std::get<StoreResponse>(s.body).newly_stored);
    CHECK(std::get<StoreResponse>(s.body).expiry_ms == 77);

    PageResponse page{{MessageItem{key(2), 5, {1, 2}}, MessageItem{key(3), 6, {}}}, true};
    auto p = decode_response(Method::retrieve, encode_response(Method::retrieve, Response{2, Status::ok, page}));
    CHECK(std::get<PageResponse>(p.body).messages == page.messages);
    CHECK(std::get<PageResponse>(p.body).more);

    auto e = decode_response(Method::retrieve, encode_response(Method::retrieve,
                                                               error_response(3, Status::replayed, "replayed")));
    CHECK(e.status == Status::replayed);
    CHECK(std::get<ErrorResponse>(e.body).message == "replayed");

    SwarmResponse sw{42, {veil::proto::NodeEntry{key(1), key(2), "127.0.0.1", 9000, 42}}};
    auto w = decode_response(Method::store, encode_response(Method::store, Response{4, Status::wrong_swarm, sw}));
    CHECK(std::get<SwarmResponse>(w.body).swarm == 42);
    CHECK(std::get<SwarmResponse>(w.body).members == sw.members);

    auto pow = decode_response(Method::store, encode_response(Method::store,
                                                              Response{5, Status::pow_required, WorkRequiredResponse{1 << 20, "more"}}));
    CHECK(pow.status == Status::pow_required);
    CHECK(std::get<WorkRequiredResponse>(pow.body).work == 1 << 20);
    CHECK(std::get<WorkRequiredResponse>(pow.body).message == "more");
}

TEST_CASE("rpc - a store without trailers encodes as before; trailers come once, in order", "[node][rpc]") {
    StoreRequest plain{key(1), 0, 60000, {1, 2, 3}};
    auto bytes = encode_request(Request{9, plain});
    // version, method, id, mailbox, ns, ttl, var(data): nothing after.
    CHECK(bytes.size() == 1 + 1 + 4 + 32 + 2 + 8 + 4 + 3);
    auto with_work = plain;
    with_work.work = StoreWork{7, 5};
    auto worked = encode_request(Request{9, with_work});
    CHECK(std::equal(bytes.begin(), bytes.end(), worked.begin()));
    CHECK(worked.size() == bytes.size() + 17);  // u8 3 ‖ u64 timestamp ‖ u64 nonce
    CHECK(worked[bytes.size()] == 3);
    CHECK(std::get<StoreRequest>(decode_request(worked).body).work == StoreWork{7, 5});
    auto twice = worked;
    twice.insert(twice.end(), worked.end() - 17, worked.end());
    CHECK_THROWS_AS(decode_request(twice), DecodeError);
    auto unknown = bytes;
    unknown.push_back(4);
    CHECK_THROWS_AS(decode_request(unknown), DecodeError);
    // The old work trailer (tag 2, a nonce without a time) is refused.
    auto old = bytes;
    old.push_back(2);
    old.insert(old.end(), 8, 0);
    CHECK_THROWS_AS(decode_request(old), DecodeError);
    // Work before auth is not the canonical order.
    OwnerAuth auth{1, {}};
    auto both = plain;
    both.auth = auth;
    both.work = StoreWork{7, 5};
    auto ordered = encode_request(Request{9, both});
    veil::wire::Bytes swapped(ordered.begin(), ordered.begin() + static_cast<std::ptrdiff_t>(bytes.size()));
    swapped.insert(swapped.end(), ordered.end() - 17, ordered.end());
    swapped.insert(swapped.end(), ordered.begin() + static_cast<std::ptrdiff_t>(bytes.size()), ordered.end() - 17);
    CHECK_THROWS_AS(decode_request(swapped), DecodeError);
    CHECK(encode_request(decode_request(ordered)) == ordered);
}

TEST_CASE("rpc - malformed requests are decode errors", "[node][rpc]") {
    auto good = encode_request(Request{5, StoreRequest{key(1), 0, 60000, {1, 2, 3}}});
    for (std::size_t cut = 0; cut < good.size(); ++cut) {
        veil::wire::Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        CHECK_THROWS_AS(decode_request(part), DecodeError);
    }
    auto trailing = good;
    trailing.push_back(0);
    CHECK_THROWS_AS(decode_request(trailing), DecodeError);
    auto bad_method = good;
    bad_method[1] = 200;
    CHECK_THROWS_AS(decode_request(bad_method), DecodeError);
    auto bad_version = good;
    bad_version[0] = 2;
    CHECK_THROWS_AS(decode_request(bad_version), DecodeError);
    CHECK(peek_request_id(good) == 5);
    CHECK(peek_request_id(veil::wire::Bytes{1, 2}) == 0);
    // A data length over the hard cap is refused before any allocation.
    auto huge = veil::wire::Writer{}.u8(1).u8(1).u32(1).raw(key(1)).u16(0).u64(1).u32(0xffffffff).take();
    CHECK_THROWS_AS(decode_request(huge), DecodeError);
}

TEST_CASE("rpc - info carries the peer signature and parked subscribe counters; an older node's answer without them reads 0",
          "[node][rpc]") {
    InfoResponse info{"0.1.0", PublicKey{}, 3, 4, 5, 7, 9};
    auto bytes = encode_response(Method::info, Response{1, Status::ok, info});
    auto back = std::get<InfoResponse>(decode_response(Method::info, bytes).body);
    CHECK(back.peer_signature_checks == 7);
    CHECK(back.parked_subscribes == 9);
    bytes.resize(bytes.size() - 8);  // as a node before the parked counter encoded it
    auto older = std::get<InfoResponse>(decode_response(Method::info, bytes).body);
    CHECK(older.peer_signature_checks == 7);
    CHECK(older.parked_subscribes == 0);
    bytes.resize(bytes.size() - 8);  // and before the signature counter
    auto oldest = std::get<InfoResponse>(decode_response(Method::info, bytes).body);
    CHECK(oldest.now_ms == 5);
    CHECK(oldest.peer_signature_checks == 0);
}

TEST_CASE("rpc - manifest answers (whole, current, diff) and challenge answers round-trip", "[node][rpc]") {
    for (const auto& m : {ManifestResponse{{1, 2, 3}, ManifestAnswer::full, {}},
                          ManifestResponse{{}, ManifestAnswer::current, {}},
                          ManifestResponse{{}, ManifestAnswer::diff, {4, 5}}}) {
        auto back = decode_response(Method::get_manifest, encode_response(Method::get_manifest, Response{3, Status::ok, m}));
        const auto& got = std::get<ManifestResponse>(back.body);
        CHECK(got.kind == m.kind);
        CHECK(got.envelope == m.envelope);
        CHECK(got.diff == m.diff);
    }
    // A whole manifest and a trailer at once, or an unknown answer kind, is malformed.
    auto both = encode_response(Method::get_manifest, Response{3, Status::ok, ManifestResponse{{1}, ManifestAnswer::full, {}}});
    both.push_back(2);
    CHECK_THROWS_AS(decode_response(Method::get_manifest, both), veil::wire::DecodeError);
    auto unknown = encode_response(Method::get_manifest, Response{3, Status::ok, ManifestResponse{{}, ManifestAnswer::current, {}}});
    unknown.back() = 9;
    CHECK_THROWS_AS(decode_response(Method::get_manifest, unknown), veil::wire::DecodeError);

    Signature sig{};
    sig[5] = 9;
    auto c = decode_response(Method::challenge, encode_response(Method::challenge, Response{4, Status::ok, ChallengeResponse{sig}}));
    CHECK(std::get<ChallengeResponse>(c.body).signature == sig);
}
