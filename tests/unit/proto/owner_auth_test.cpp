#include <catch2/catch.hpp>

#include "veil/proto/namespaces.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil::proto::node;
using veil::crypto::SigningKeyPair;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;
}

TEST_CASE("auth - message hash is BLAKE2b-256 over mailbox, namespace and data", "[node][auth]") {
    PublicKey mb{};
    mb.fill(0xab);
    Bytes data{1, 2, 3};
    auto h = message_hash(mb, 7, data);
    CHECK(h == message_hash(mb, 7, data));
    CHECK(h != message_hash(mb, 8, data));
    PublicKey other = mb;
    other[31] ^= 1;
    CHECK(h != message_hash(other, 7, data));
    // Known answer computed independently: b2sum -l 256 over ab*32 || 00 07 || 01 02 03.
    CHECK(veil::wire::to_hex(h) == "efef073eac032fc59daf21b47b6bacbf5b1dce89b02567a16d8bc655d3b83c34");
}

TEST_CASE("auth - the exact owner-signed bytes", "[node][auth]") {
    PublicKey mb{};
    mb.fill(1);
    Hash h{};
    h.fill(2);
    DeleteRequest d{mb, 0x0102, {h}, OwnerAuth{0x1122334455667788ULL, {}}};
    auto bytes = owner_signed_bytes(RequestBody{d});
    std::string expect = veil::wire::to_hex(veil::wire::Bytes{'v', 'e', 'i', 'l', '-', 'o', 'w', 'n', 'e', 'r', '-', 'v', '1'}) +
                         "03" + veil::wire::to_hex(mb) + "0102" +
                         "1122334455667788" + "0001" + veil::wire::to_hex(h);
    CHECK(veil::wire::to_hex(bytes) == expect);
    CHECK_THROWS_AS(owner_signed_bytes(RequestBody{StoreRequest{}}), std::invalid_argument);  // unsigned store

    StoreRequest st{mb, 0x8001, 0x0A0B, {9, 9}, OwnerAuth{0x1122334455667788ULL, {}}};
    std::string store_expect =
        veil::wire::to_hex(veil::wire::Bytes{'v', 'e', 'i', 'l', '-', 'o', 'w', 'n', 'e', 'r', '-', 'v', '1'}) + "01" +
        veil::wire::to_hex(mb) + "8001" + "1122334455667788" + "0000000000000a0b" +
        veil::wire::to_hex(message_hash(mb, 0x8001, st.data));
    CHECK(veil::wire::to_hex(owner_signed_bytes(RequestBody{st})) == store_expect);
}

TEST_CASE("auth - owner signature, clock window and replay", "[node][auth]") {
    auto owner = veil::crypto::SigningKeyPair::generate();
    ReplayGuard guard(60'000);
    RequestBody body = RetrieveRequest{owner.pub, 0, {}, {}};
    sign_owner_request(body, owner, kNow);

    CHECK(guard.check_owner(body, kNow + 1000) == Status::ok);
    CHECK(guard.check_owner(body, kNow + 1000) == Status::replayed);

    SECTION("outside the window either way") {
        RequestBody old = RetrieveRequest{owner.pub, 0, {}, {}};
        sign_owner_request(old, owner, kNow - 60'001);
        CHECK(guard.check_owner(old, kNow) == Status::clock_out_of_window);
        RequestBody future = RetrieveRequest{owner.pub, 0, {}, {}};
        sign_owner_request(future, owner, kNow + 60'001);
        CHECK(guard.check_owner(future, kNow) == Status::clock_out_of_window);
    }
    SECTION("signed by someone else, or changed after signing") {
        auto mallory = veil::crypto::SigningKeyPair::generate();
        RequestBody forged = RetrieveRequest{mallory.pub, 0, {}, {}};
        sign_owner_request(forged, mallory, kNow);
        std::get<RetrieveRequest>(forged).mailbox = owner.pub;
        CHECK(guard.check_owner(forged, kNow) == Status::bad_signature);

        RequestBody del = DeleteRequest{owner.pub, 0, {Hash{}}, {}};
        sign_owner_request(del, owner, kNow);
        std::get<DeleteRequest>(del).hashes[0][0] = 1;
        CHECK(guard.check_owner(del, kNow) == Status::bad_signature);

        RequestBody ns = RetrieveRequest{owner.pub, 1, {}, {}};
        sign_owner_request(ns, owner, kNow + 1);
        std::get<RetrieveRequest>(ns).ns = 2;
        CHECK(guard.check_owner(ns, kNow) == Status::bad_signature);
    }
    SECTION("a signature for one method does not work for another") {
        RequestBody sub = SubscribeRequest{owner.pub, 0, {}, 0, std::get<RetrieveRequest>(body).auth};
        CHECK(guard.check_owner(sub, kNow) == Status::bad_signature);
    }
    SECTION("a fresh timestamp is a fresh request") {
        RequestBody again = RetrieveRequest{owner.pub, 0, {}, {}};
        sign_owner_request(again, owner, kNow + 1);
        CHECK(guard.check_owner(again, kNow) == Status::ok);
    }
    SECTION("the guard forgets what the clock rule refuses anyway") {
        CHECK(guard.size() == 1);
        RequestBody later = RetrieveRequest{owner.pub, 0, {}, {}};
        sign_owner_request(later, owner, kNow + 200'000);
        CHECK(guard.check_owner(later, kNow + 200'000) == Status::ok);
        CHECK(guard.size() == 1);
    }
}

TEST_CASE("auth - a full replay cache forgets its oldest entry and still admits fresh requests", "[node][auth]") {
    auto owner = veil::crypto::SigningKeyPair::generate();
    ReplayGuard guard(60'000, 2);
    std::vector<RequestBody> seen;
    for (std::uint64_t i = 0; i < 2; ++i) {
        RequestBody b = RetrieveRequest{owner.pub, 0, {}, {}};
        sign_owner_request(b, owner, kNow + i);
        REQUIRE(guard.check_owner(b, kNow + i) == Status::ok);
        seen.push_back(b);
    }
    RequestBody b = RetrieveRequest{owner.pub, 0, {}, {}};
    sign_owner_request(b, owner, kNow + 5);
    CHECK(guard.check_owner(b, kNow + 5) == Status::ok);  // was rate_limited: a flood silenced the owner
    CHECK(guard.size() == 2);
    CHECK(guard.evicted() == 1);
    CHECK(guard.check_owner(seen[1], kNow + 5) == Status::replayed);
    CHECK(guard.check_owner(b, kNow + 5) == Status::replayed);
}

TEST_CASE("auth - an X25519 mailbox is owned by the Ed25519 key it converts from", "[node][auth]") {
    auto identity = veil::crypto::SigningKeyPair::generate();
    PublicKey veil_id = veil::crypto::ed25519_to_x25519(identity.pub);  // the mailbox of an identity
    CHECK(owns_mailbox(identity.pub, identity.pub));
    CHECK(owns_mailbox(identity.pub, veil_id));
    auto other = veil::crypto::SigningKeyPair::generate();
    CHECK_FALSE(owns_mailbox(other.pub, veil_id));

    ReplayGuard guard(60'000);
    RequestBody del = DeleteRequest{veil_id, 0x8001, {Hash{}}, {}};
    sign_owner_request(del, identity, kNow);
    CHECK(std::get<DeleteRequest>(del).auth.owner == identity.pub);
    CHECK(guard.check_owner(del, kNow) == Status::ok);

    // Someone else's valid signature, presented for this mailbox, is refused.
    RequestBody forged = DeleteRequest{veil::crypto::ed25519_to_x25519(other.pub), 0x8001, {Hash{}}, {}};
    sign_owner_request(forged, other, kNow + 1);
    std::get<DeleteRequest>(forged).mailbox = veil_id;
    CHECK(guard.check_owner(forged, kNow) == Status::bad_signature);
    RequestBody wrong = DeleteRequest{veil_id, 0x8001, {Hash{}}, {}};
    CHECK_THROWS_AS(sign_owner_request(wrong, other, kNow), std::invalid_argument);
}

TEST_CASE("owner auth - a replicated change's proof verifies only as the owner signed it", "[node][auth]") {
    auto owner = veil::crypto::SigningKeyPair::generate();
    Hash h{};
    h[0] = 9;
    RequestBody del = DeleteRequest{owner.pub, 3, {h}, {}};
    sign_owner_request(del, owner, 1'000);
    auto change = open_owner_proof(encode_owner_proof(del));
    REQUIRE(change);
    CHECK(change->deleted);
    CHECK(change->mailbox == owner.pub);
    CHECK(change->ns == 3);
    CHECK(change->covers(h));
    CHECK_FALSE(change->covers(Hash{}));

    RequestBody exp = ExpireRequest{owner.pub, 0, {h}, 77'000, {}};
    sign_owner_request(exp, owner, 1'000);
    auto shortened = open_owner_proof(encode_owner_proof(exp));
    REQUIRE(shortened);
    CHECK_FALSE(shortened->deleted);
    CHECK(shortened->expiry_ms == 77'000);

    // Another hash under the owner's signature, a stranger's signature, a store, garbage: none.
    auto tampered = del;
    std::get<DeleteRequest>(tampered).hashes[0][1] ^= 1;
    CHECK_FALSE(open_owner_proof(encode_owner_proof(tampered)));
    auto stranger = veil::crypto::SigningKeyPair::generate();
    auto forged = del;
    std::get<DeleteRequest>(forged).auth.signature = stranger.sign(owner_signed_bytes(forged));
    CHECK_FALSE(open_owner_proof(encode_owner_proof(forged)));
    CHECK_FALSE(open_owner_proof(encode_request(Request{0, StoreRequest{owner.pub, 0, 60'000, {1}}})));
    CHECK_FALSE(open_owner_proof(Bytes{1, 2, 3}));
}

namespace {

// Mallory's own valid signature over a request naming Bob's mailbox: everything checks out except
// that she does not own the mailbox (sign_owner_request refuses to make this, so it is built by hand).
template <class Q>
RequestBody signed_by_stranger(Q q, const SigningKeyPair& mallory) {
    q.auth = OwnerAuth{kNow, mallory.pub, {}};
    RequestBody body = std::move(q);
    auto sig = mallory.sign(owner_signed_bytes(body));
    std::visit([&](auto& r) {
        if constexpr (requires { r.auth->signature; }) r.auth->signature = sig;
        else if constexpr (requires { r.auth.signature; }) r.auth.signature = sig;
    }, body);
    return body;
}

}  // namespace

TEST_CASE("owner auth - a valid signature by someone who does not own the mailbox is refused", "[node][auth]") {
    // The mailbox-owner check alone: the signature, clock and replay rules all pass.
    auto bob = SigningKeyPair::generate();
    auto mallory = SigningKeyPair::generate();
    const PublicKey bob_id = veil::crypto::ed25519_to_x25519(bob.pub);
    const std::vector<RequestBody> requests = {
        signed_by_stranger(RetrieveRequest{bob_id, 0, {}, {}}, mallory),
        signed_by_stranger(SubscribeRequest{bob_id, 0, {}, 0, {}}, mallory),
        signed_by_stranger(DeleteRequest{bob_id, 0, {Hash{}}, {}}, mallory),
        signed_by_stranger(ExpireRequest{bob_id, 0, {Hash{}}, kNow + 10'000, {}}, mallory),
        signed_by_stranger(StoreRequest{bob_id, kDeviceListNamespace, 60'000, Bytes{1, 2, 3}, std::nullopt}, mallory),
        signed_by_stranger(RetrieveRequest{bob.pub, 0, {}, {}}, mallory),  // Bob's Ed25519 key as the mailbox
    };
    for (const auto& body : requests) {
        ReplayGuard guard(60'000);
        INFO("method " << static_cast<int>(method_of(body)));
        CHECK(guard.verify_owner(body, kNow) == Status::bad_signature);
        CHECK(guard.check_owner(body, kNow) == Status::bad_signature);
    }
    // The same requests made by the owner pass: only ownership differed.
    RequestBody own = RetrieveRequest{bob_id, 0, {}, {}};
    sign_owner_request(own, bob, kNow);
    ReplayGuard guard(60'000);
    CHECK(guard.check_owner(own, kNow) == Status::ok);
}

TEST_CASE("owner auth - a store auth verifies only for the message the owner signed", "[node][auth]") {
    auto owner = veil::crypto::SigningKeyPair::generate();
    RequestBody body = StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {1, 2, 3}};
    sign_owner_request(body, owner, 5'000);
    const auto& q = std::get<StoreRequest>(body);
    auto auth = encode_store_auth(q);
    CHECK(auth.size() == 1 + 8 + 8 + 32 + 64);
    CHECK(auth[0] == kOwnerStoreAuth);
    auto ok = open_store_auth(auth, owner.pub, kDeviceListNamespace, q.data);
    REQUIRE(ok);
    CHECK(ok->timestamp_ms == 5'000);  // no clock rule: catch-up forwards it days later
    CHECK(ok->ttl_ms == 60'000);
    // Other data, namespace or mailbox; another kind; a stranger's signature; truncated or padded.
    CHECK_FALSE(open_store_auth(auth, owner.pub, kDeviceListNamespace, Bytes{1, 2}));
    CHECK_FALSE(open_store_auth(auth, owner.pub, kBundleNamespace, q.data));
    CHECK_FALSE(open_store_auth(auth, veil::crypto::SigningKeyPair::generate().pub, kDeviceListNamespace, q.data));
    auto other_kind = auth;
    other_kind[0] = 2;
    CHECK_FALSE(open_store_auth(other_kind, owner.pub, kDeviceListNamespace, q.data));
    auto longer_ttl = auth;
    longer_ttl[8] ^= 1;
    CHECK_FALSE(open_store_auth(longer_ttl, owner.pub, kDeviceListNamespace, q.data));
    auto stranger = veil::crypto::SigningKeyPair::generate();
    RequestBody forged = body;
    std::get<StoreRequest>(forged).auth->signature = stranger.sign(owner_signed_bytes(forged));
    CHECK_FALSE(open_store_auth(encode_store_auth(std::get<StoreRequest>(forged)), owner.pub, kDeviceListNamespace, q.data));
    CHECK_FALSE(open_store_auth(Bytes(auth.begin(), auth.end() - 1), owner.pub, kDeviceListNamespace, q.data));
    auto padded = auth;
    padded.push_back(0);
    CHECK_FALSE(open_store_auth(padded, owner.pub, kDeviceListNamespace, q.data));
    CHECK_THROWS_AS(encode_store_auth(StoreRequest{owner.pub, 0, 60'000, {1}}), std::invalid_argument);
}

TEST_CASE("owner auth - a proof has one encoding: another request id is refused", "[node][auth]") {
    // The id is not signed: id-variants of one proof would hash apart and each be kept.
    auto owner = SigningKeyPair::generate();
    RequestBody del = DeleteRequest{owner.pub, 0, {Hash{}}, {}};
    sign_owner_request(del, owner, kNow);
    CHECK(open_owner_proof(encode_owner_proof(del)));
    CHECK_FALSE(open_owner_proof(encode_request(Request{5, del})));
    CHECK_FALSE(open_owner_proof(encode_request(Request{1, del})));
}
