#include <catch2/catch.hpp>

#include <sodium.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "node_fixture.hpp"

using namespace veil::node;
using namespace veil::node::test;
using veil::crypto::SigningKeyPair;

namespace {

RequestBody signed_body(RequestBody body, const veil::crypto::SigningKeyPair& owner, std::uint64_t ts = kNow) {
    sign_owner_request(body, owner, ts);
    return body;
}

}  // namespace

TEST_CASE("service - store then retrieve with the owner's signature", "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmA);
    auto out = node.call(StoreRequest{owner.pub, 0, 60'000, {1, 2, 3}});
    REQUIRE(out.response.status == Status::ok);
    CHECK(std::get<StoreResponse>(out.response.body).newly_stored);
    REQUIRE(out.replicate.size() == 1);  // passed on to the swarm
    CHECK(out.notify == Wake{owner.pub, 0});
    CHECK(node.call(StoreRequest{owner.pub, 0, 60'000, {1, 2, 3}}).replicate.empty());  // duplicate

    auto got = node.call(signed_body(RetrieveRequest{owner.pub, 0, {}, {}}, owner));
    REQUIRE(got.response.status == Status::ok);
    CHECK(std::get<PageResponse>(got.response.body).messages.size() == 1);

    // Unsigned, replayed, or signed by someone else: refused.
    CHECK(node.call(RetrieveRequest{owner.pub, 0, {}, {}}).response.status == Status::clock_out_of_window);
    CHECK(node.call(signed_body(RetrieveRequest{owner.pub, 0, {}, {}}, owner)).response.status ==
          Status::replayed);
    auto other = owner_in(kSwarmA);
    RequestBody forged = signed_body(RetrieveRequest{other.pub, 0, {}, {}}, other, kNow + 1);
    std::get<RetrieveRequest>(forged).mailbox = owner.pub;
    CHECK(node.call(forged).response.status == Status::bad_signature);
}

TEST_CASE("service - a mailbox of another swarm gets a redirect naming it", "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmB);
    auto out = node.call(StoreRequest{owner.pub, 0, 60'000, {1}});
    REQUIRE(out.response.status == Status::wrong_swarm);
    const auto& sw = std::get<SwarmResponse>(out.response.body);
    CHECK(sw.swarm == kSwarmB);
    REQUIRE(sw.members.size() == 1);
    CHECK(sw.members[0].ed25519 == net.b1.pub);
    auto gs = node.call(GetSwarmRequest{owner.pub});
    CHECK(std::get<SwarmResponse>(gs.response.body).swarm == kSwarmB);
}

TEST_CASE("service - limits give clear errors", "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmA);
    CHECK(node.call(StoreRequest{owner.pub, 0, 60'000, Bytes(76'801)}).response.status == Status::too_large);
    CHECK(node.call(StoreRequest{owner.pub, 0, 5'000, {1}}).response.status == Status::bad_ttl);
    auto err = node.call(StoreRequest{owner.pub, 0, 5'000, {1}});
    CHECK(std::get<ErrorResponse>(err.response.body).message == "TTL outside the allowed range");
    CHECK(node.call(signed_body(ExpireRequest{owner.pub, 0, {Hash{}}, kNow - 1, {}}, owner)).response.status ==
          Status::bad_ttl);
}

TEST_CASE("service - delete and expire are replicated; subscribe parks when empty", "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmA);
    auto sub = node.call(signed_body(SubscribeRequest{owner.pub, 0, {}, 30'000, {}}, owner));
    CHECK(sub.park);
    auto stored = node.call(StoreRequest{owner.pub, 0, 60'000, {9}});
    auto hash = std::get<StoreResponse>(stored.response.body).hash;
    auto resumed = node.service.resume_subscribe(1, SubscribeRequest{owner.pub, 0, {}, 30'000, {}}, kNow);
    CHECK_FALSE(resumed.park);
    CHECK(std::get<PageResponse>(resumed.response.body).messages.size() == 1);

    auto ex = node.call(signed_body(ExpireRequest{owner.pub, 0, {hash}, kNow + 30'000, {}}, owner, kNow + 1));
    REQUIRE(ex.response.status == Status::ok);
    CHECK(ex.replicate.size() == 1);
    auto del = node.call(signed_body(DeleteRequest{owner.pub, 0, {hash}, {}}, owner, kNow + 2));
    REQUIRE(del.response.status == Status::ok);
    CHECK(std::get<HashesResponse>(del.response.body).hashes == std::vector<Hash>{hash});
    REQUIRE(del.replicate.size() == 1);
    CHECK(del.replicate[0].state.deleted);
}

TEST_CASE("service - peer replication is accepted only from swarm members", "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    Node b1(net.b1, net);
    auto owner = owner_in(kSwarmA);
    auto out = a1.call(StoreRequest{owner.pub, 0, 60'000, {4, 2}});
    REQUIRE(out.replicate.size() == 1);
    auto env = seal_peer(ReplicateBody{out.replicate}, net.a1, net.a2.pub, kNow);
    CHECK(a2.call(PeerRequest{env}).response.status == Status::ok);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 1);

    // A node of another swarm, a stranger, or an old envelope: refused.
    CHECK(a2.call(PeerRequest{seal_peer(ReplicateBody{out.replicate}, net.b1, net.a2.pub, kNow)}).response.status ==
          Status::unauthorized);
    auto stranger = veil::crypto::SigningKeyPair::generate();
    CHECK(a2.call(PeerRequest{seal_peer(ReplicateBody{out.replicate}, stranger, net.a2.pub, kNow)}).response.status ==
          Status::unauthorized);
    CHECK(a2.call(PeerRequest{seal_peer(ReplicateBody{out.replicate}, net.a1, net.a2.pub, kNow)}, kNow + 120'000)
              .response.status == Status::clock_out_of_window);
    CHECK(a2.call(PeerRequest{Bytes{1, 2, 3}}).response.status == Status::bad_request);

    // Catch-up requests: summary and fetch.
    auto summary = a1.call(PeerRequest{seal_peer(SummaryBody{kSwarmA}, net.a2, net.a1.pub, kNow)});
    REQUIRE(summary.response.status == Status::ok);
    auto sum = decode_summary(std::get<PeerResponse>(summary.response.body).body);
    auto all = [](const PublicKey&) { return true; };
    CHECK(sum == summarize(a2.store.states(kNow, all)));
    CHECK(a1.call(PeerRequest{seal_peer(SummaryBody{kSwarmB}, net.a2, net.a1.pub, kNow)}).response.status == Status::unauthorized);
}

TEST_CASE("service - manifests: only newer, only signed by the authority", "[node][service]") {
    Net net;
    MessageStore store({":memory:", "", false}, Limits{});
    StorageService svc(net.a1, store, Limits{}, net.verifier());
    CHECK(svc.handle(Request{1, StoreRequest{}}, kNow).response.status == Status::not_ready);
    auto rogue = veil::crypto::SigningKeyPair::generate();
    Manifest m;
    m.version = 99;
    m.valid_until_ms = UINT64_MAX;  // never expires: these tests are about other checks
    std::vector<const veil::crypto::SigningKeyPair*> signers{&rogue};
    CHECK(svc.update_manifest(veil::proto::sign_manifest(m, signers).encode(), 0) ==
          veil::proto::ManifestCheck::too_few_signatures);
    CHECK(svc.update_manifest(net.envelope, 0) == veil::proto::ManifestCheck::ok);
    CHECK(svc.manifest_version() == 1);
    CHECK(svc.own_swarm() == kSwarmA);
    CHECK(svc.swarm_peers().size() == 1);
    auto got = svc.handle(Request{2, GetManifestRequest{}}, kNow);
    CHECK(std::get<ManifestResponse>(got.response.body).envelope == net.envelope);
}

TEST_CASE("service - public namespaces are readable by anyone, but only the owner deletes", "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmA);
    const std::uint16_t bundles = 0x8002;
    CHECK(node.call(StoreRequest{owner.pub, bundles, 60'000, {7}}).response.status == Status::unauthorized);
    REQUIRE(node.call(signed_body(StoreRequest{owner.pub, bundles, 60'000, {7}}, owner)).response.status == Status::ok);
    REQUIRE(node.call(StoreRequest{owner.pub, 0, 60'000, {8}}).response.status == Status::ok);

    // A stranger reads the public namespace with no signature at all...
    auto got = node.call(RetrieveRequest{owner.pub, bundles, {}, {}});
    REQUIRE(got.response.status == Status::ok);
    const auto& messages = std::get<PageResponse>(got.response.body).messages;
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].data == Bytes{7});
    // ...but not a private one, and cannot delete from either.
    CHECK(node.call(RetrieveRequest{owner.pub, 0, {}, {}}).response.status == Status::clock_out_of_window);
    CHECK(node.call(DeleteRequest{owner.pub, bundles, {messages[0].hash}, {}}).response.status ==
          Status::clock_out_of_window);
    auto removed = node.call(signed_body(DeleteRequest{owner.pub, bundles, {messages[0].hash}, {}}, owner));
    REQUIRE(removed.response.status == Status::ok);
    CHECK(std::get<HashesResponse>(removed.response.body).hashes.size() == 1);
}

TEST_CASE("service - a peer envelope is refused when replayed or addressed to another node", "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto env = seal_peer(SummaryBody{kSwarmA}, net.a1, net.a2.pub, kNow);
    CHECK(a2.call(PeerRequest{env}).response.status == Status::ok);
    CHECK(a2.call(PeerRequest{env}, kNow + 10).response.status == Status::replayed);
    // Sealed for a2, sent to a1 (by a2 itself or anyone who saw it): refused unverified.
    auto before = a1.service.peer_signature_checks();
    CHECK(a1.call(PeerRequest{seal_peer(SummaryBody{kSwarmA}, net.a2, net.a2.pub, kNow)}).response.status ==
          Status::unauthorized);
    CHECK(a1.service.peer_signature_checks() == before);
}

TEST_CASE("service - a stranger's largest peer envelope costs no signature check", "[node][service]") {
    Net net;
    Node a2(net.a2, net);
    auto stranger = veil::crypto::SigningKeyPair::generate();
    std::vector<ReplicaOp> ops;
    for (int i = 0; i < 15; ++i) ops.push_back(ReplicaOp{MessageState{}, Bytes(kMaxDataBytes, 7)});
    auto env = seal_peer(ReplicateBody{ops}, stranger, net.a2.pub, kNow);
    REQUIRE(env.size() > 15u << 20);
    CHECK(a2.call(PeerRequest{env}).response.status == Status::unauthorized);
    CHECK(a2.service.peer_signature_checks() == 0);
    // A member pays one check per envelope.
    CHECK(a2.call(PeerRequest{seal_peer(SummaryBody{kSwarmA}, net.a1, net.a2.pub, kNow)}).response.status == Status::ok);
    CHECK(a2.service.peer_signature_checks() == 1);
}

TEST_CASE("service - a member's replicated delete applies only with the owner's proof", "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    auto stored = a1.call(StoreRequest{owner.pub, 0, 60'000, {4, 2}});
    REQUIRE(a2.call(PeerRequest{seal_peer(ReplicateBody{stored.replicate}, net.a1, net.a2.pub, kNow)}).response.status ==
            Status::ok);
    auto hash = std::get<StoreResponse>(stored.response.body).hash;
    MessageState state{hash, owner.pub, 0, kNow + 60'000, true};
    auto replicate = [&](std::shared_ptr<const Bytes> proof, std::uint64_t now) {
        auto env = seal_peer(ReplicateBody{{ReplicaOp{state, std::nullopt, std::move(proof)}}}, net.a1, net.a2.pub, now);
        REQUIRE(a2.call(PeerRequest{env}, now).response.status == Status::ok);
    };
    // No proof; a proof signed by someone else; the owner's proof for another message: ignored.
    replicate(nullptr, kNow + 1);
    auto mallory = veil::crypto::SigningKeyPair::generate();
    RequestBody forged = DeleteRequest{owner.pub, 0, {hash}, {}};
    sign_owner_request(forged, owner, kNow);
    std::get<DeleteRequest>(forged).auth.signature = mallory.sign(owner_signed_bytes(forged));
    replicate(std::make_shared<const Bytes>(encode_owner_proof(forged)), kNow + 2);
    RequestBody other = DeleteRequest{owner.pub, 0, {Hash{}}, {}};
    sign_owner_request(other, owner, kNow);
    replicate(std::make_shared<const Bytes>(encode_owner_proof(other)), kNow + 3);
    REQUIRE(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 1);
    // The owner's own request, replicated by a1: applied, and kept for catch-up.
    auto del = a1.call(signed_body(DeleteRequest{owner.pub, 0, {hash}, {}}, owner, kNow + 4));
    REQUIRE(del.replicate.size() == 1);
    REQUIRE(del.replicate[0].proof);
    REQUIRE(a2.call(PeerRequest{seal_peer(ReplicateBody{del.replicate}, net.a1, net.a2.pub, kNow + 5)}, kNow + 5)
                .response.status == Status::ok);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.empty());
    CHECK(a2.store.proof_of(hash) == *del.replicate[0].proof);
    // Replaying that proof with a tombstone that expires at once must not shorten the tombstone
    // (once it expired, the member could replicate the data again as a new message).
    auto expiry_at_a2 = [&] {
        for (const auto& st : a2.store.states(kNow, [](const PublicKey&) { return true; }))
            if (st.hash == hash) return st.expiry_ms;
        return std::uint64_t{0};
    };
    const auto kept = expiry_at_a2();
    REQUIRE(kept > kNow + 1'000);
    MessageState short_lived{hash, owner.pub, 0, kNow + 7, true};
    auto replay = seal_peer(ReplicateBody{{ReplicaOp{short_lived, std::nullopt, del.replicate[0].proof}}}, net.a1,
                            net.a2.pub, kNow + 6);
    REQUIRE(a2.call(PeerRequest{replay}, kNow + 6).response.status == Status::ok);
    CHECK(expiry_at_a2() == kept);
}

TEST_CASE("service - a member's peer traffic has a byte budget, charged once its signature verified", "[node][service]") {
    Net net;
    Node a2(net.a2, net);
    std::vector<ReplicaOp> ops;
    for (int i = 0; i < 15; ++i) ops.push_back(ReplicaOp{MessageState{}, Bytes(kMaxDataBytes, 7)});
    auto big = [&] { return seal_peer(ReplicateBody{ops}, net.a1, net.a2.pub, kNow); };
    // 32 MiB of burst: two 15 MiB envelopes pass, the third in the same instant does not.
    CHECK(a2.call(PeerRequest{big()}).response.status == Status::ok);
    CHECK(a2.call(PeerRequest{big()}).response.status == Status::ok);
    CHECK(a2.call(PeerRequest{big()}).response.status == Status::rate_limited);
    CHECK(a2.service.peer_signature_checks() == 3);
    // The budget refills at 16 MiB/s.
    CHECK(a2.call(PeerRequest{seal_peer(ReplicateBody{ops}, net.a1, net.a2.pub, kNow + 1000)}, kNow + 1000)
              .response.status == Status::ok);
}

TEST_CASE("service - envelopes that name a member but fail its signature do not spend its budget", "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    // A stranger's envelopes with a1 named as the sender in the (unsigned) header, more than
    // a1's request burst.
    auto stranger = veil::crypto::SigningKeyPair::generate();
    auto forged = seal_peer(SummaryBody{kSwarmA}, stranger, net.a2.pub, kNow);
    std::copy(net.a1.pub.begin(), net.a1.pub.end(), forged.begin() + 1);
    REQUIRE(peek_peer(forged)->sender == net.a1.pub);
    const auto flood = static_cast<int>(Limits{}.peer_request_burst) + 10;
    int bad_signatures = 0;
    for (int i = 0; i < flood; ++i) bad_signatures += a2.call(PeerRequest{forged}).response.status == Status::bad_signature;
    CHECK(bad_signatures == flood);
    // a1's own replication, in the same instant, still applies.
    auto owner = owner_in(kSwarmA);
    auto stored = a1.call(StoreRequest{owner.pub, 0, 60'000, {4, 2}});
    REQUIRE(stored.replicate.size() == 1);
    CHECK(a2.call(PeerRequest{seal_peer(ReplicateBody{stored.replicate}, net.a1, net.a2.pub, kNow)}).response.status ==
          Status::ok);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 1);
}

TEST_CASE("service - only the envelope namespace takes strangers' stores; the owner's re-store extends",
          "[node][service]") {
    Net net;
    Node node(net.a1, net);
    auto owner = owner_in(kSwarmA);
    auto stranger = veil::crypto::SigningKeyPair::generate();
    for (std::uint16_t ns : {std::uint16_t{1}, std::uint16_t{0x1234}, kDeviceListNamespace, kBundleNamespace}) {
        INFO(ns);
        auto refused = node.call(StoreRequest{owner.pub, ns, 60'000, {1}});
        CHECK(refused.response.status == Status::unauthorized);
        CHECK(refused.replicate.empty());
        // A signature by a key that does not own the mailbox is no owner signature.
        RequestBody forged = StoreRequest{owner.pub, ns, 60'000, {1}};
        std::get<StoreRequest>(forged).auth =
            std::get<StoreRequest>(signed_body(StoreRequest{stranger.pub, ns, 60'000, {1}}, stranger)).auth;
        std::get<StoreRequest>(forged).auth->owner = stranger.pub;
        CHECK(node.call(forged).response.status == Status::bad_signature);
        CHECK(node.call(signed_body(StoreRequest{owner.pub, ns, 60'000, {1}}, owner, kNow - 120'000)).response.status ==
              Status::clock_out_of_window);
    }
    auto first = node.call(signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {5}}, owner));
    REQUIRE(first.response.status == Status::ok);
    auto again = node.call(signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {5}}, owner, kNow + 30'000),
                           kNow + 30'000);
    REQUIRE(again.response.status == Status::ok);
    const auto& answer = std::get<StoreResponse>(again.response.body);
    CHECK_FALSE(answer.newly_stored);
    CHECK(answer.expiry_ms == kNow + 90'000);
    auto page = node.call(RetrieveRequest{owner.pub, kDeviceListNamespace, {}, {}}, kNow + 70'000);
    REQUIRE(std::get<PageResponse>(page.response.body).messages.size() == 1);
    // A stranger's duplicate envelope keeps the first expiry, and the answer says which.
    REQUIRE(node.call(StoreRequest{owner.pub, 0, 60'000, {6}}).response.status == Status::ok);
    auto dup = node.call(StoreRequest{owner.pub, 0, 60'000, {6}}, kNow + 10'000);
    CHECK(std::get<StoreResponse>(dup.response.body).expiry_ms == kNow + 60'000);
}

namespace {

// Sends ops from member a1 to a2 as one replicate envelope; the answer must be ok (ops the
// replica does not believe are ignored, not refused).
void replicate(const Net& net, Node& to, std::vector<ReplicaOp> ops, std::uint64_t now) {
    auto env = seal_peer(ReplicateBody{std::move(ops)}, net.a1, net.a2.pub, now);
    REQUIRE(to.call(PeerRequest{env}, now).response.status == Status::ok);
}

std::uint64_t expiry_at(Node& node, const Hash& hash) {
    for (const auto& st : node.store.states(kNow, [](const PublicKey&) { return true; }))
        if (st.hash == hash) return st.expiry_ms;
    return 0;
}

}  // namespace

TEST_CASE("service - a member's store into an owner-only namespace needs the owner's store auth",
          "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    auto mallory = veil::crypto::SigningKeyPair::generate();
    const Bytes junk{'j', 'u', 'n', 'k'};
    auto junk_state = [&](std::uint16_t ns) {
        return MessageState{message_hash(owner.pub, ns, junk), owner.pub, ns, kNow + 60'000, false};
    };
    for (std::uint16_t ns : {kDeviceListNamespace, kBundleNamespace, std::uint16_t{1}}) {
        INFO(ns);
        // No store auth; one signed by mallory (as the owner, and as herself); the owner's
        // signature of other data.
        RequestBody by_mallory = StoreRequest{owner.pub, ns, 60'000, junk};
        sign_owner_request(by_mallory, owner, kNow);
        std::get<StoreRequest>(by_mallory).auth->signature = mallory.sign(owner_signed_bytes(by_mallory));
        RequestBody as_mallory = StoreRequest{owner.pub, ns, 60'000, junk};
        std::get<StoreRequest>(as_mallory).auth = OwnerAuth{kNow, mallory.pub, mallory.sign(owner_signed_bytes(by_mallory))};
        auto other = signed_body(StoreRequest{owner.pub, ns, 60'000, {'o', 'k'}}, owner);
        replicate(net, a2, {ReplicaOp{junk_state(ns), junk}}, kNow);
        for (const auto* forged : {&by_mallory, &as_mallory, &other})
            replicate(net, a2, {ReplicaOp{junk_state(ns), junk, nullptr, encode_store_auth(std::get<StoreRequest>(*forged))}},
                      kNow);
        CHECK(a2.store.retrieve(owner.pub, ns, {}, kNow).messages.empty());
    }
    // The owner's own store, replicated by a1: applied, with its store auth kept for catch-up, and
    // no longer than the owner signed for, whatever expiry the member claims.
    auto stored = a1.call(signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, junk}, owner));
    REQUIRE(stored.replicate.size() == 1);
    auto inflated = stored.replicate;
    inflated[0].state.expiry_ms = kNow + 7 * 24 * 3600 * 1000ULL;
    replicate(net, a2, inflated, kNow + 1);
    REQUIRE(a2.store.retrieve(owner.pub, kDeviceListNamespace, {}, kNow).messages.size() == 1);
    auto hash = junk_state(kDeviceListNamespace).hash;
    CHECK(a2.store.store_auth_of(hash) == stored.replicate[0].store_auth);
    CHECK(expiry_at(a2, hash) <= kNow + 60'000 + Limits{}.clock_window_ms);
}

TEST_CASE("service - replicated stores count against the namespace's quota", "[node][service]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 3;
    limits.work.free_fraction = 1;  // pricing off: the quota alone
    Node a2(net.a2, net, limits);
    auto owner = owner_in(kSwarmA);
    std::vector<ReplicaOp> ops;
    for (std::uint8_t i = 0; i < 10; ++i) {
        Bytes data{i};
        ops.push_back(ReplicaOp{MessageState{message_hash(owner.pub, 0, data), owner.pub, 0, kNow + 60'000, false}, data});
    }
    replicate(net, a2, ops, kNow);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 3);
}

TEST_CASE("service - an expire proof replayed after the owner's refresh leaves the expiry", "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto owner = owner_in(kSwarmA);
    const Bytes list{'l', 'i', 's', 't'};
    auto stored = a1.call(signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, list}, owner));
    REQUIRE(stored.response.status == Status::ok);
    replicate(net, a2, stored.replicate, kNow);
    auto hash = std::get<StoreResponse>(stored.response.body).hash;
    // The owner shortens it (replicated with the proof), then refreshes it on every member.
    auto shortened = a1.call(
        signed_body(ExpireRequest{owner.pub, kDeviceListNamespace, {hash}, kNow + 20'000, {}}, owner, kNow + 1'000),
        kNow + 1'000);
    REQUIRE(shortened.replicate.size() == 1);
    replicate(net, a2, shortened.replicate, kNow + 1'000);
    REQUIRE(expiry_at(a2, hash) == kNow + 20'000);
    auto refresh = signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, list}, owner, kNow + 2'000);
    REQUIRE(a1.call(refresh, kNow + 2'000).response.status == Status::ok);
    REQUIRE(a2.call(refresh, kNow + 2'000).response.status == Status::ok);
    REQUIRE(expiry_at(a2, hash) == kNow + 62'000);
    // Member a1 replays the old expire proof: older than the refresh, refused.
    replicate(net, a2, shortened.replicate, kNow + 3'000);
    CHECK(expiry_at(a2, hash) == kNow + 62'000);
    // The owner's later expire still applies.
    auto later = a1.call(
        signed_body(ExpireRequest{owner.pub, kDeviceListNamespace, {hash}, kNow + 30'000, {}}, owner, kNow + 4'000),
        kNow + 4'000);
    REQUIRE(later.replicate.size() == 1);
    replicate(net, a2, later.replicate, kNow + 4'000);
    CHECK(expiry_at(a2, hash) == kNow + 30'000);
}

TEST_CASE("service - a member's bogus proofs end its batch; each verification is charged to it", "[node][service]") {
    Net net;
    Limits limits;
    limits.peer_verifies_per_second = 1;
    limits.peer_verify_burst = 5;
    Node a1(net.a1, net);
    Node a2(net.a2, net, limits);
    auto owner = owner_in(kSwarmA);
    auto mallory = veil::crypto::SigningKeyPair::generate();
    // Ten messages on both members; the owner deletes each with its own request on a1.
    std::vector<ReplicaOp> deletes;
    for (std::uint8_t i = 0; i < 10; ++i) {
        auto stored = a1.call(StoreRequest{owner.pub, 0, 60'000, {i}});
        replicate(net, a2, stored.replicate, kNow);
        auto hash = std::get<StoreResponse>(stored.response.body).hash;
        auto del = a1.call(signed_body(DeleteRequest{owner.pub, 0, {hash}, {}}, owner, kNow + i));
        REQUIRE(del.replicate.size() == 1);
        deletes.push_back(del.replicate[0]);
    }
    // A batch of 100 distinct forged proofs costs one verification.
    std::vector<ReplicaOp> bogus;
    for (std::size_t i = 0; i < 100; ++i) {
        RequestBody forged = DeleteRequest{owner.pub, 0, {deletes[i % 10].state.hash}, {}};
        sign_owner_request(forged, owner, kNow + 100 + i);
        std::get<DeleteRequest>(forged).auth.signature = mallory.sign(owner_signed_bytes(forged));
        bogus.push_back(ReplicaOp{deletes[i % 10].state, std::nullopt, std::make_shared<const Bytes>(encode_owner_proof(forged))});
    }
    bogus.push_back(deletes[0]);  // after the first bogus proof: not reached
    replicate(net, a2, bogus, kNow);
    CHECK(a2.service.replica_signature_checks() == 1);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 10);
    // The genuine deletes: four verifications left in the burst, so four apply now...
    replicate(net, a2, deletes, kNow + 1);
    CHECK(a2.service.replica_signature_checks() == 5);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 6);
    // ...and the rest as the budget refills (one a second).
    replicate(net, a2, std::vector<ReplicaOp>(deletes.begin() + 4, deletes.end()), kNow + 3'001);
    CHECK(a2.store.retrieve(owner.pub, 0, {}, kNow).messages.size() == 3);
    // Forged store auths end the batch at the first too.
    Node fresh(net.a2, net, limits);
    auto genuine = a1.call(signed_body(StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {'d'}}, owner));
    REQUIRE(genuine.replicate.size() == 1);
    std::vector<ReplicaOp> forged_stores;
    for (std::uint8_t i = 0; i < 50; ++i) {
        RequestBody body = StoreRequest{owner.pub, kDeviceListNamespace, 60'000, {'j', i}};
        sign_owner_request(body, owner, kNow);
        auto& q = std::get<StoreRequest>(body);
        q.auth->signature = mallory.sign(owner_signed_bytes(body));
        MessageState st{message_hash(owner.pub, kDeviceListNamespace, q.data), owner.pub, kDeviceListNamespace,
                        kNow + 60'000, false};
        forged_stores.push_back(ReplicaOp{st, q.data, nullptr, encode_store_auth(q)});
    }
    forged_stores.push_back(genuine.replicate[0]);
    replicate(net, fresh, forged_stores, kNow);
    CHECK(fresh.service.replica_signature_checks() == 1);
    CHECK(fresh.store.retrieve(owner.pub, kDeviceListNamespace, {}, kNow).messages.empty());
}

TEST_CASE("service - a stranger's flood pays once a quarter full; a sender who pays still gets through",
          "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;  // free up to 10
    limits.work.base_work = 256;
    Node node(net.a1, net, limits);
    auto bob = owner_in(kSwarmA);
    constexpr std::uint64_t kTtl = 14ULL * 24 * 3600 * 1000;
    auto junk = [&](int i) { return StoreRequest{bob.pub, 0, kTtl, Bytes(100, static_cast<std::uint8_t>(i))}; };
    // The flood of issue 13, without work: free stores stop at a quarter of the quota.
    int stored = 0;
    std::uint64_t asked = 0;
    for (int i = 0; i < 60; ++i) {
        auto out = node.call(junk(i));
        if (out.response.status == Status::ok) {
            ++stored;
            continue;
        }
        REQUIRE(out.response.status == Status::pow_required);
        CHECK(out.replicate.empty());
        asked = std::get<WorkRequiredResponse>(out.response.body).work;
    }
    CHECK(stored == 10);
    CHECK(asked == required_store_work(limits.work, node.store.fill(bob.pub, 0), 100, kTtl));
    CHECK(asked >= 256);
    // A nonce that does not meet the price is refused like none.
    auto cheap = StoreRequest{bob.pub, 0, kTtl, {'h', 'i'}};
    auto hash = message_hash(cheap.mailbox, cheap.ns, cheap.data);
    for (std::uint64_t n = 0; !cheap.work; ++n) {
        cheap.work = StoreWork{kNow, n};
        if (store_work_meets(cheap, hash, asked)) cheap.work.reset();
    }
    auto refused = node.call(cheap);
    REQUIRE(refused.response.status == Status::pow_required);
    // A real sender solves what the node asked and gets through.
    auto asked_now = std::get<WorkRequiredResponse>(refused.response.body).work;
    REQUIRE(solve_store_work(cheap, asked_now, nullptr, UINT64_MAX, kNow));
    auto paid = node.call(cheap);
    REQUIRE(paid.response.status == Status::ok);
    CHECK(paid.replicate.size() == 1);
    // The owner's signed stores pay nothing.
    CHECK(node.call(signed_body(StoreRequest{bob.pub, 0, kTtl, {'m', 'e'}}, bob)).response.status == Status::ok);
    auto inbox = node.call(signed_body(RetrieveRequest{bob.pub, 0, {}, {}}, bob, kNow + 1));
    CHECK(std::get<PageResponse>(inbox.response.body).messages.size() == 12);
}

TEST_CASE("service - a solved nonce buys one stretch of time: re-sent after its message expired, it is priced again",
          "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;  // free up to 10
    limits.work.base_work = 256;
    Node node(net.a1, net, limits);
    auto bob = owner_in(kSwarmA);
    constexpr std::uint64_t kLong = 14ULL * 24 * 3600 * 1000;
    // Half full (the owner's own stores count and cost nothing).
    for (std::uint8_t i = 0; i < 20; ++i)
        REQUIRE(node.call(signed_body(StoreRequest{bob.pub, 0, kLong, {'b', i}}, bob, kNow + i)).response.status ==
                Status::ok);
    // Mallory pays once for a junk message with the shortest TTL.
    StoreRequest junk{bob.pub, 0, limits.min_ttl_ms, {'j'}};
    auto asked = node.call(junk);
    REQUIRE(asked.response.status == Status::pow_required);
    const auto price = std::get<WorkRequiredResponse>(asked.response.body).work;
    REQUIRE(solve_store_work(junk, price, nullptr, UINT64_MAX, kNow));
    auto first = node.call(junk);
    REQUIRE(first.response.status == Status::ok);
    CHECK(std::get<StoreResponse>(first.response.body).expiry_ms == kNow + limits.min_ttl_ms);
    // Re-sent after the message expired, with the same nonce: the stretch it bought is over.
    const std::uint64_t later = kNow + limits.min_ttl_ms + 1;
    CHECK(node.call(junk, later).response.status == Status::pow_required);
    CHECK(node.call(junk, kNow + 3'600'000).response.status == Status::pow_required);
    // A proof stamped further ahead than the clock window proves nothing either; a fresh one does.
    REQUIRE(solve_store_work(junk, price, nullptr, UINT64_MAX, later + limits.clock_window_ms + 1));
    CHECK(node.call(junk, later).response.status == Status::pow_required);
    REQUIRE(solve_store_work(junk, price, nullptr, UINT64_MAX, later));
    auto again = node.call(junk, later);
    REQUIRE(again.response.status == Status::ok);
    CHECK(std::get<StoreResponse>(again.response.body).expiry_ms == later + limits.min_ttl_ms);
}

TEST_CASE("service - re-storing a message already held is free, however full the namespace", "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;  // free up to 10
    Node node(net.a1, net, limits);
    auto bob = owner_in(kSwarmA);
    std::vector<StoreRequest> sent;
    for (std::uint8_t i = 0; i < 10; ++i) {
        sent.push_back(StoreRequest{bob.pub, 0, 60'000, {'s', i}});
        REQUIRE(node.call(sent.back()).response.status == Status::ok);
    }
    REQUIRE(node.call(StoreRequest{bob.pub, 0, 60'000, {'n', 'e', 'w'}}).response.status == Status::pow_required);
    // A sender retrying (a lost answer, a rebuilt onion path) costs nothing and stores nothing.
    for (const auto& q : sent) {
        auto again = node.call(q, kNow + 1'000);
        REQUIRE(again.response.status == Status::ok);
        CHECK_FALSE(std::get<StoreResponse>(again.response.body).newly_stored);
        CHECK(again.replicate.empty());
    }
    CHECK(node.store.fill(bob.pub, 0).messages == 10);
}

TEST_CASE("service - simultaneous unpaid stores cannot pass the free threshold together", "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;  // free up to 10
    Node node(net.a1, net, limits);
    constexpr int kRounds = 20;
    constexpr int kThreads = 6;
    constexpr std::uint8_t kEach = 10;
    for (int round = 0; round < kRounds; ++round) {
        auto bob = owner_in(kSwarmA);
        std::atomic<int> stored{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                while (!go) std::this_thread::yield();
                for (std::uint8_t i = 0; i < kEach; ++i) {
                    StoreRequest q{bob.pub, 0, 60'000, {static_cast<std::uint8_t>(t), i}};
                    if (node.service.handle(Request{1, q}, kNow).response.status == Status::ok) ++stored;
                }
            });
        go = true;
        for (auto& th : threads) th.join();
        CHECK(stored == 10);
        CHECK(node.store.fill(bob.pub, 0).messages == 10);
    }
}

TEST_CASE("service - a hostile member's unpaid envelopes stop at the free fraction on its fellow replicas",
          "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;  // free up to 10
    limits.work.base_work = 256;
    Node a1(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    auto bob = owner_in(kSwarmA);
    constexpr std::uint64_t kTtl = 14ULL * 24 * 3600 * 1000;
    // node-1 forwards 60 junk envelopes that nobody paid for.
    std::vector<ReplicaOp> junk;
    for (std::uint8_t i = 0; i < 60; ++i) {
        Bytes data{'j', i};
        junk.push_back(ReplicaOp{MessageState{message_hash(bob.pub, 0, data), bob.pub, 0, kNow + kTtl, false}, data});
    }
    replicate(net, a2, junk, kNow);
    CHECK(a2.store.fill(bob.pub, 0).messages == 10);
    // A store auth of a kind the replica does not know, or work too small for its price: the same.
    replicate(net, a2, {ReplicaOp{junk[20].state, junk[20].data, nullptr, Bytes{9, 9}}}, kNow);
    StoreRequest weak{bob.pub, 0, kTtl, {'w'}};
    const auto weak_hash = message_hash(bob.pub, 0, weak.data);
    const auto price = required_store_work(limits.work, a2.store.fill(bob.pub, 0), weak.data.size(), kTtl);
    for (std::uint64_t n = 0; !weak.work; ++n) {
        weak.work = StoreWork{kNow, n};
        if (proven_store_work(bob.pub, 0, weak_hash, kTtl, *weak.work) >= price) weak.work.reset();
    }
    replicate(net, a2, {ReplicaOp{MessageState{weak_hash, bob.pub, 0, kNow + kTtl, false}, weak.data, nullptr,
                                  encode_work_auth(weak)}},
              kNow);
    CHECK(a2.store.fill(bob.pub, 0).messages == 10);
    // A sender's paid store reaches node-1 and travels with its work (store auth kind 2): node-2
    // prices it against its own fill and keeps it.
    StoreRequest alice{bob.pub, 0, kTtl, {'a', 'l', 'i', 'c', 'e'}};
    for (std::uint8_t i = 0; i < 10; ++i) REQUIRE(a1.call(StoreRequest{bob.pub, 0, kTtl, {'f', i}}).response.status == Status::ok);
    auto asked = a1.call(alice);
    REQUIRE(asked.response.status == Status::pow_required);
    REQUIRE(solve_store_work(alice, std::get<WorkRequiredResponse>(asked.response.body).work, nullptr, UINT64_MAX, kNow));
    auto paid = a1.call(alice);
    REQUIRE(paid.response.status == Status::ok);
    REQUIRE(paid.replicate.size() == 1);
    REQUIRE_FALSE(paid.replicate[0].store_auth.empty());
    CHECK(paid.replicate[0].store_auth[0] == kWorkStoreAuth);
    replicate(net, a2, paid.replicate, kNow);
    CHECK(a2.store.fill(bob.pub, 0).messages == 11);
    CHECK(a2.store.store_auth_of(paid.replicate[0].state.hash) == paid.replicate[0].store_auth);
    // The same work replicated after the stretch it bought proves nothing.
    const std::uint64_t later = kNow + kTtl + 1;
    Node a2_later(net.a2, net, limits);
    for (std::uint8_t i = 0; i < 10; ++i)
        REQUIRE(a2_later.call(StoreRequest{bob.pub, 0, kTtl, {'f', i}}, later).response.status == Status::ok);
    auto late_op = paid.replicate[0];
    late_op.state.expiry_ms = later + kTtl;
    replicate(net, a2_later, {late_op}, later);
    CHECK(a2_later.store.fill(bob.pub, 0).messages == 10);
}

TEST_CASE("service - the node's byte cap refuses new messages; reads and deletes go on", "[node][service]") {
    Net net;
    Limits limits;
    // Five 200-byte rows and 300 bytes: room for a delete proof and a 10-byte row after a delete.
    constexpr std::uint64_t kRowBytes = kRowOverheadBytes + kNewRowShareBytes + 200;
    limits.max_stored_bytes = 5 * kRowBytes + 300;
    limits.node_work_free_fraction = 1;  // the hard cap alone (its price is tested below)
    Node node(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    std::vector<veil::crypto::SigningKeyPair> owners;
    std::vector<Hash> hashes;
    // Free stores into fresh mailboxes (each far under its own quota) fill the node.
    Status last = Status::ok;
    for (int i = 0; i < 20 && last == Status::ok; ++i) {
        owners.push_back(owner_in(kSwarmA));
        auto out = node.call(StoreRequest{owners.back().pub, 0, 60'000, Bytes(200, 1)});
        last = out.response.status;
        if (last == Status::ok) hashes.push_back(std::get<StoreResponse>(out.response.body).hash);
    }
    REQUIRE(last == Status::quota_exceeded);
    CHECK(hashes.size() == 5);
    CHECK(node.store.stored_bytes() == 5 * kRowBytes);
    auto full = node.call(StoreRequest{owners.back().pub, 0, 60'000, Bytes(200, 2)});
    CHECK(std::get<ErrorResponse>(full.response.body).message == "this node is full");
    // Reads go on; the owner's delete goes on (its proof is counted, never refused) and frees room.
    auto inbox = node.call(signed_body(RetrieveRequest{owners[0].pub, 0, {}, {}}, owners[0]));
    REQUIRE(inbox.response.status == Status::ok);
    CHECK(std::get<PageResponse>(inbox.response.body).messages.size() == 1);
    auto del = node.call(signed_body(DeleteRequest{owners[0].pub, 0, {hashes[0]}, {}}, owners[0], kNow + 1));
    REQUIRE(del.response.status == Status::ok);
    CHECK(node.store.stored_bytes() < 5 * kRowBytes);
    CHECK(node.call(StoreRequest{owners.back().pub, 0, 60'000, Bytes(10, 3)}).response.status == Status::ok);
    // A member's replicated stores are held to the same cap.
    std::vector<ReplicaOp> ops;
    for (std::uint8_t i = 0; i < 20; ++i) {
        Bytes data(100, i);  // free per mailbox: 20 over 6 mailboxes
        const auto& owner = owners[i % owners.size()].pub;
        ops.push_back(ReplicaOp{MessageState{message_hash(owner, 0, data), owner, 0, kNow + 60'000, false}, data});
    }
    replicate(net, a2, ops, kNow);
    CHECK(a2.store.stored_bytes() <= limits.max_stored_bytes);
    CHECK(a2.store.row_count() == limits.max_stored_bytes / (kRowOverheadBytes + kNewRowShareBytes + 100));
}

TEST_CASE("service - a free flood that Bob drains never fills his proof quota: his deletes still work",
          "[node][service]") {
    Net net;
    Limits limits;
    limits.max_messages_per_mailbox = 40;         // free up to 10
    limits.max_proof_bytes_per_mailbox = 2'000;  // four deletes of 10 hashes (466 bytes each)
    Node a1(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    auto bob = owner_in(kSwarmA);
    std::uint64_t now = kNow;
    // Mallory's free junk, drained by Bob's client round after round (fetch, delete), as the
    // messenger does; every store and delete is replicated to node-2.
    auto drain_round = [&](int round) {
        for (std::uint8_t i = 0; i < 10; ++i) {
            auto out = a1.call(StoreRequest{bob.pub, 0, 600'000, {'j', static_cast<std::uint8_t>(round), i}}, now);
            REQUIRE(out.response.status == Status::ok);
            replicate(net, a2, out.replicate, now);
        }
        ++now;
        auto inbox = a1.call(signed_body(RetrieveRequest{bob.pub, 0, {}, {}}, bob, now), now);
        std::vector<Hash> hashes;
        for (const auto& m : std::get<PageResponse>(inbox.response.body).messages) hashes.push_back(m.hash);
        ++now;
        auto del = a1.call(signed_body(DeleteRequest{bob.pub, 0, hashes, {}}, bob, now), now);
        REQUIRE(del.response.status == Status::ok);
        CHECK(std::get<HashesResponse>(del.response.body).hashes.size() == 10);
        replicate(net, a2, del.replicate, now);
        CHECK(a2.store.fill(bob.pub, 0).messages == 0);
        now += 10;
    };
    for (int round = 0; round < 12; ++round) drain_round(round);
    // Alice's real message still arrives, and Bob still deletes it on both.
    auto real = a1.call(StoreRequest{bob.pub, 0, 600'000, {'h', 'i'}}, now);
    REQUIRE(real.response.status == Status::ok);
    replicate(net, a2, real.replicate, now);
    auto hash = std::get<StoreResponse>(real.response.body).hash;
    ++now;
    auto del = a1.call(signed_body(DeleteRequest{bob.pub, 0, {hash}, {}}, bob, now), now);
    REQUIRE(del.response.status == Status::ok);
    CHECK(std::get<HashesResponse>(del.response.body).hashes.size() == 1);
    replicate(net, a2, del.replicate, now);
    CHECK(a1.store.fill(bob.pub, 0).messages == 0);
    CHECK(a2.store.fill(bob.pub, 0).messages == 0);
    CHECK(a2.store.proof_of(hash).has_value());  // the newest proof is kept, to pass on
}

TEST_CASE("service - a member's replicated store with a TTL no client may ask is dropped", "[node][service]") {
    Net net;
    Limits limits;  // min_ttl 10 s
    Node a2(net.a2, net, limits);
    auto bob = owner_in(kSwarmA);
    const std::uint64_t kShort = limits.min_ttl_ms - 1;
    // The owner's signature over a 10-second-minus-one store into a namespace only he writes...
    RequestBody signed_store = signed_body(StoreRequest{bob.pub, kDeviceListNamespace, kShort, {'d'}}, bob);
    const auto& q = std::get<StoreRequest>(signed_store);
    ReplicaOp owner_op{MessageState{message_hash(bob.pub, kDeviceListNamespace, q.data), bob.pub, kDeviceListNamespace,
                                    kNow + kShort, false},
                       q.data, nullptr, encode_store_auth(q)};
    // ...and a stranger's envelope whose work names such a TTL.
    StoreRequest envelope{bob.pub, 0, kShort, {'e'}};
    REQUIRE(solve_store_work(envelope, 1, nullptr, UINT64_MAX, kNow));
    ReplicaOp work_op{MessageState{message_hash(bob.pub, 0, envelope.data), bob.pub, 0, kNow + kShort, false},
                      envelope.data, nullptr, encode_work_auth(envelope)};
    replicate(net, a2, {owner_op, work_op}, kNow);
    CHECK(expiry_at(a2, owner_op.state.hash) == 0);
    CHECK(expiry_at(a2, work_op.state.hash) == 0);
    // At the shortest TTL a client may ask, both are kept.
    RequestBody ok_store = signed_body(StoreRequest{bob.pub, kDeviceListNamespace, limits.min_ttl_ms, {'d'}}, bob, kNow + 1);
    const auto& ok_q = std::get<StoreRequest>(ok_store);
    owner_op.store_auth = encode_store_auth(ok_q);
    envelope.ttl_ms = limits.min_ttl_ms;
    REQUIRE(solve_store_work(envelope, 1, nullptr, UINT64_MAX, kNow));
    work_op.store_auth = encode_work_auth(envelope);
    replicate(net, a2, {owner_op, work_op}, kNow + 1);
    CHECK(expiry_at(a2, owner_op.state.hash) > 0);
    CHECK(expiry_at(a2, work_op.state.hash) > 0);
}

TEST_CASE("service - an old delete proof makes no fresh tombstone; replicated data over the size limit is ignored",
          "[node][service]") {
    constexpr std::uint64_t kDay = 24ULL * 3600 * 1000;
    Net net;
    Limits limits;  // max_ttl 14 days, max_data_bytes 76,800
    Node a2(net.a2, net, limits);
    auto owner = owner_in(kSwarmA);
    // The owner deleted, 20 days ago, a message this replica never had: the message lived at most
    // 14 days after that, so the tombstone a member offers now ends in the past.
    Hash old_hash{};
    old_hash[0] = 7;
    auto old_proof = std::make_shared<const Bytes>(
        encode_owner_proof(signed_body(DeleteRequest{owner.pub, 0, {old_hash}, {}}, owner, kNow - 20 * kDay)));
    replicate(net, a2, {ReplicaOp{MessageState{old_hash, owner.pub, 0, kNow + 14 * kDay, true}, std::nullopt, old_proof}},
              kNow);
    CHECK(expiry_at(a2, old_hash) == 0);
    // A recent proof still makes its tombstone, ending at most max_ttl after it was signed.
    Hash new_hash{};
    new_hash[0] = 8;
    auto new_proof = std::make_shared<const Bytes>(
        encode_owner_proof(signed_body(DeleteRequest{owner.pub, 0, {new_hash}, {}}, owner, kNow - kDay)));
    replicate(net, a2, {ReplicaOp{MessageState{new_hash, owner.pub, 0, kNow + 14 * kDay, true}, std::nullopt, new_proof}},
              kNow);
    CHECK(expiry_at(a2, new_hash) == kNow + 13 * kDay + limits.clock_window_ms);

    // A member's store larger than any client may make is dropped; one at the limit is kept.
    auto store_op = [&](std::size_t size) {
        Bytes data(size, 1);
        return ReplicaOp{MessageState{message_hash(owner.pub, 0, data), owner.pub, 0, kNow + 60'000, false}, data};
    };
    auto too_big = store_op(limits.max_data_bytes + 1);
    auto at_limit = store_op(limits.max_data_bytes);
    replicate(net, a2, {too_big, at_limit}, kNow);
    CHECK(expiry_at(a2, too_big.state.hash) == 0);
    CHECK(expiry_at(a2, at_limit.state.hash) == kNow + 60'000);
}

TEST_CASE("service - free keypairs cannot fill the node unpaid: Bob's bundle republish still goes in",
          "[node][service][work]") {
    Net net;
    Limits limits;
    limits.max_stored_bytes = 20'000;
    limits.work.base_work = 64;
    Node a1(net.a1, net, limits);
    Node a2(net.a2, net, limits);
    constexpr std::uint64_t kTtl = 14ULL * 24 * 3600 * 1000;
    constexpr std::uint16_t kBundles = veil::proto::node::kBundleNamespace;
    // Mallory makes a keypair per store and signs into her own fresh mailbox, as any owner may.
    int stored = 0;
    int priced = 0;
    std::vector<ReplicaOp> her_ops;
    for (int i = 0; i < 80; ++i) {
        auto k = owner_in(kSwarmA);
        auto out = a1.call(signed_body(StoreRequest{k.pub, kBundles, kTtl, Bytes(500, static_cast<std::uint8_t>(i))}, k));
        if (out.response.status == Status::ok) {
            ++stored;
            her_ops.insert(her_ops.end(), out.replicate.begin(), out.replicate.end());
            continue;
        }
        REQUIRE(out.response.status == Status::pow_required);  // a price, never "this node is full"
        ++priced;
    }
    CHECK(priced > 0);
    CHECK(a1.store.stored_bytes() <= limits.max_stored_bytes / 2 + 500 + 200 + kNewRowShareBytes);
    // Bob republishes a new bundle: the node asks work he can pay, and it goes in.
    auto bob = owner_in(kSwarmA);
    auto bundle = signed_body(StoreRequest{bob.pub, kBundles, kTtl, Bytes(500, 0xb0)}, bob, kNow + 1);
    auto asked = a1.call(bundle, kNow + 1);
    REQUIRE(asked.response.status == Status::pow_required);
    auto work = std::get<WorkRequiredResponse>(asked.response.body).work;
    CHECK(work < 1'000'000);
    auto& q = std::get<StoreRequest>(bundle);
    REQUIRE(solve_store_work(q, work, nullptr, UINT64_MAX, kNow + 1));
    auto paid = a1.call(bundle, kNow + 1);
    REQUIRE(paid.response.status == Status::ok);
    // A hostile member replicating her owner-signed stores (and more) fills a replica no further
    // than the free fraction either: the owner's work is not kept with the row.
    for (int i = 0; i < 20; ++i) {
        auto k = owner_in(kSwarmA);
        RequestBody more = StoreRequest{k.pub, kBundles, kTtl, Bytes(500, static_cast<std::uint8_t>(100 + i))};
        sign_owner_request(more, k, kNow);
        const auto& mq = std::get<StoreRequest>(more);
        her_ops.push_back(ReplicaOp{MessageState{message_hash(k.pub, kBundles, mq.data), k.pub, kBundles, kNow + kTtl, false},
                                    mq.data, nullptr, encode_store_auth(mq)});
    }
    replicate(net, a2, her_ops, kNow);
    CHECK(a2.store.stored_bytes() <= limits.max_stored_bytes / 2 + 500 + 200 + kNewRowShareBytes);
}

TEST_CASE("service - padded owner proofs are applied but not kept: a proof's bytes follow the rows it changes",
          "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto mallory = owner_in(kSwarmA);
    std::uint64_t now = kNow;
    auto store_one = [&](std::uint8_t b) {
        ++now;
        auto out = a1.call(signed_body(StoreRequest{mallory.pub, 0, 600'000, {b}}, mallory, now), now);
        REQUIRE(out.response.status == Status::ok);
        replicate(net, a2, out.replicate, now);
        return std::get<StoreResponse>(out.response.body).hash;
    };
    auto padded = [&](const Hash& real) {
        std::vector<Hash> hashes{real};
        for (int i = 0; i < 999; ++i) {
            Hash h{};
            randombytes_buf(h.data(), h.size());
            hashes.push_back(h);
        }
        return hashes;
    };
    // One byte of data, then a delete naming it and 999 hashes nobody holds (a 32 KB proof).
    auto first = store_one(1);
    const auto before = a1.store.stored_bytes();
    ++now;
    auto del = a1.call(signed_body(DeleteRequest{mallory.pub, 0, padded(first), {}}, mallory, now), now);
    REQUIRE(del.response.status == Status::ok);
    CHECK(std::get<HashesResponse>(del.response.body).hashes.size() == 1);  // applied
    CHECK(a1.store.stored_bytes() < before + 1'000);                        // not kept
    replicate(net, a2, del.replicate, now);
    CHECK(a2.store.fill(mallory.pub, 0).messages == 0);  // applied on the replica too
    CHECK(a2.store.stored_bytes() < before + 1'000);
    // The same with a padded expire.
    auto second = store_one(2);
    ++now;
    auto exp = a1.call(signed_body(ExpireRequest{mallory.pub, 0, padded(second), now + 30'000, {}}, mallory, now), now);
    REQUIRE(exp.response.status == Status::ok);
    CHECK(std::get<HashesResponse>(exp.response.body).hashes.size() == 1);
    replicate(net, a2, exp.replicate, now);
    CHECK(a1.store.stored_bytes() < before + 1'000);
    CHECK(a2.store.stored_bytes() < before + 1'000);
    CHECK(expiry_at(a2, second) == now + 30'000);
    // An honest delete of what the node holds keeps its proof, to pass on.
    std::vector<Hash> held;
    for (std::uint8_t b = 10; b < 20; ++b) held.push_back(store_one(b));
    ++now;
    auto honest = a1.call(signed_body(DeleteRequest{mallory.pub, 0, held, {}}, mallory, now), now);
    REQUIRE(std::get<HashesResponse>(honest.response.body).hashes.size() == 10);
    replicate(net, a2, honest.replicate, now);
    CHECK(a1.store.proof_of(held[0]).has_value());
    CHECK(a2.store.proof_of(held[9]).has_value());
}

TEST_CASE("service - one replicate request of 10,000 ops citing one padded proof decides its density once",
          "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    Node a2(net.a2, net);
    auto mallory = owner_in(kSwarmA);
    auto stored = a1.call(signed_body(StoreRequest{mallory.pub, 0, 600'000, {1}}, mallory, kNow + 1), kNow + 1);
    REQUIRE(stored.response.status == Status::ok);
    replicate(net, a2, stored.replicate, kNow + 1);
    std::vector<Hash> named{std::get<StoreResponse>(stored.response.body).hash};
    for (int i = 0; i < 999; ++i) {
        Hash h{};
        randombytes_buf(h.data(), h.size());
        named.push_back(h);
    }
    auto del = a1.call(signed_body(DeleteRequest{mallory.pub, 0, named, {}}, mallory, kNow + 2), kNow + 2);
    REQUIRE(del.replicate.size() == 1);
    const auto before = a2.store.density_checks();
    replicate(net, a2, std::vector<ReplicaOp>(kMaxOpsPerReplicate, del.replicate[0]), kNow + 2);
    CHECK(a2.store.density_checks() - before == 1);
    CHECK(a2.store.fill(mallory.pub, 0).messages == 0);
    CHECK(a2.store.proof_count() == 0);
}

TEST_CASE("service - a member that held none of the rows adopts a multi-hash delete's tombstones",
          "[node][service]") {
    Net net;
    Node a1(net.a1, net);
    auto bob = owner_in(kSwarmA);
    std::vector<ReplicaOp> data_ops;
    std::vector<Hash> hashes;
    for (std::uint8_t b = 1; b <= 10; ++b) {
        auto out = a1.call(signed_body(StoreRequest{bob.pub, 0, 600'000, {b}}, bob, kNow + b), kNow + b);
        REQUIRE(out.response.status == Status::ok);
        data_ops.insert(data_ops.end(), out.replicate.begin(), out.replicate.end());
        hashes.push_back(std::get<StoreResponse>(out.response.body).hash);
    }
    auto del = a1.call(signed_body(DeleteRequest{bob.pub, 0, hashes, {}}, bob, kNow + 20), kNow + 20);
    REQUIRE(del.replicate.size() == 10);
    REQUIRE(del.replicate[0].proof->size() > 256);  // more than a proof of no held row may be
    // D was down during the stores and the delete: it learns the tombstones first.
    Node d(net.a2, net);
    replicate(net, d, del.replicate, kNow + 21);
    CHECK(d.store.row_count() == 10);
    // A lagging or hostile member feeds the deleted envelopes back: D keeps none.
    replicate(net, d, data_ops, kNow + 22);
    CHECK(d.store.fill(bob.pub, 0).messages == 0);
}

TEST_CASE("service - a member's unproven tombstones, with or without data, leave the replica's messages",
          "[node][service]") {
    Net net;
    Node a2(net.a2, net);
    auto bob = owner_in(kSwarmA);
    auto held = a2.call(StoreRequest{bob.pub, 0, 600'000, {'h', 'i'}});
    REQUIRE(held.response.status == Status::ok);
    const auto hash = std::get<StoreResponse>(held.response.body).hash;
    const Bytes unseen{'n', 'e', 'w'};
    const auto unseen_hash = message_hash(bob.pub, 0, unseen);
    // Hostile a1: tombstones for a held message and an unseen one, bare and dressed with data.
    replicate(net, a2,
              {ReplicaOp{MessageState{hash, bob.pub, 0, kNow + 600'000, true}, std::nullopt, nullptr},
               ReplicaOp{MessageState{hash, bob.pub, 0, kNow + 600'000, true}, Bytes{'h', 'i'}, nullptr},
               ReplicaOp{MessageState{unseen_hash, bob.pub, 0, kNow + 600'000, true}, unseen, nullptr}},
              kNow + 1);
    CHECK(a2.store.retrieve(bob.pub, 0, {}, kNow + 1).messages.size() == 1);
    CHECK(a2.store.row_count() == 1);  // no tombstone for the unseen one either
    // Alice's later store of the unseen message still goes in.
    CHECK(std::get<StoreResponse>(a2.call(StoreRequest{bob.pub, 0, 600'000, unseen}, kNow + 2).response.body).newly_stored);
}

TEST_CASE("service - with an expired manifest the node keeps serving what it stores, and takes no stale, future or second body",
          "[node][service]") {
    Net net;
    MessageStore store({":memory:", "", false}, Limits{});
    StorageService svc(net.a1, store, Limits{}, net.verifier());
    std::vector<const veil::crypto::SigningKeyPair*> signers{&net.authority};
    auto with = [&](std::uint64_t version, std::uint64_t issued, std::uint64_t valid_until, std::uint16_t port_shift) {
        Manifest m = net.manifest;
        m.version = version;
        m.issued_ms = issued;
        m.valid_until_ms = valid_until;
        for (auto& n : m.nodes) n.port = static_cast<std::uint16_t>(n.port + port_shift);
        return veil::proto::sign_manifest(m, signers).encode();
    };
    REQUIRE(svc.update_manifest(with(5, kNow - 1000, kNow + 1000, 0), kNow) == veil::proto::ManifestCheck::ok);
    auto owner = owner_in(kSwarmA);
    REQUIRE(svc.handle(Request{1, StoreRequest{owner.pub, 0, 600'000, {1, 2, 3}}}, kNow).response.status == Status::ok);

    // Expired now: what it stores is still served to its owner (nothing is lost in an outage).
    const auto later = kNow + 60'000;
    auto got = svc.handle(Request{2, signed_body(RetrieveRequest{owner.pub, 0, {}, {}}, owner, later)}, later);
    REQUIRE(got.response.status == Status::ok);
    CHECK(std::get<PageResponse>(got.response.body).messages.size() == 1);
    // But it takes no expired manifest from anyone, none from the future, no second body of 5.
    CHECK(svc.update_manifest(with(6, kNow, kNow + 1000, 0), later) == veil::proto::ManifestCheck::expired);
    CHECK(svc.update_manifest(with(7, later + veil::proto::kMaxClockSkewMs + 1, UINT64_MAX, 0), later) ==
          veil::proto::ManifestCheck::from_future);
    CHECK(svc.update_manifest(with(5, kNow - 1000, UINT64_MAX, 1), later) == veil::proto::ManifestCheck::conflicting_body);
    CHECK(svc.manifest_version() == 5);
    CHECK(svc.update_manifest(with(8, later, later + 1000, 0), later) == veil::proto::ManifestCheck::ok);
}

TEST_CASE("service - a hostile member's signed deletes of made-up hashes cannot fill its fellow replicas",
          "[node][service]") {
    // Review HIGH (issue 13): the tombstone quota counts per mailbox and namespace, and
    // namespaces are 16 bits: a member signed, as the owner of a free mailbox, deletes of made-up
    // hashes in thousands of namespaces and replicated them; each became a tombstone row on every
    // other member, free, until the node's cap. Now such a tombstone is priced like a store with
    // no work: kept under the free fraction (where anyone's store is free), ignored past it.
    Net net;
    Limits limits;
    limits.max_stored_bytes = 256 << 10;
    Node a2(net.a2, net, limits);
    auto mallory = owner_in(kSwarmA);  // a1 is hostile and owns this mailbox
    std::uint32_t made_up = 0;
    for (std::uint16_t batch = 0; batch < 20; ++batch) {
        std::vector<ReplicaOp> ops;
        for (std::uint16_t k = 0; k < 100; ++k, ++made_up) {
            const auto ns = static_cast<std::uint16_t>(1000 + made_up);
            Hash h{};
            std::memcpy(h.data(), &made_up, sizeof made_up);
            auto proof = std::make_shared<const Bytes>(
                encode_owner_proof(signed_body(DeleteRequest{mallory.pub, ns, {h}, {}}, mallory, kNow)));
            ops.push_back(ReplicaOp{MessageState{h, mallory.pub, ns, kNow + 600'000, true}, std::nullopt, proof});
        }
        replicate(net, a2, ops, kNow + batch);
    }
    // Each tombstone costs a row and its proof (~450 bytes): 2,000 would pass the cap 3 times.
    REQUIRE(a2.store.stored_bytes() <= limits.max_stored_bytes / 2 + 1024);
    // Bob's message still goes in (with the work a half-full node asks of everyone).
    auto bob = owner_in(kSwarmA);
    StoreRequest real{bob.pub, 0, 600'000, {'h', 'i'}};
    auto asked = a2.call(real);
    REQUIRE(asked.response.status == Status::pow_required);
    REQUIRE(solve_store_work(real, std::get<WorkRequiredResponse>(asked.response.body).work, nullptr, UINT64_MAX, kNow));
    CHECK(a2.call(real).response.status == Status::ok);
}
