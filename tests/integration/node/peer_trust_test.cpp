// What one hostile swarm member or a stranger can do through the real peer port of real nodes:
// a member holding a real node key of the testnet replicates deletions without the owner's proof
// and replays envelopes; a stranger sends a 16 MiB peer frame. See docs/service-node.md
// §What replicas believe.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "veil/proto/peer_rpc.hpp"
#include "support/node_rpc.hpp"
#include "support/testnet_fixture.hpp"
#include "testnet.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/proto/namespaces.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil::proto::node;
namespace d = veil::directory;
using namespace std::chrono_literals;

namespace {

using veil::test::now_ms;
using veil::test::Testnet;

// Sends frames up to the node's largest (a peer envelope of kMaxPeerBodyBytes).
struct Rpc final : veil::test::NodeRpc {
    Rpc() { options.max_frame_bytes = kMaxPeerBodyBytes + 8192; }
    ~Rpc() { CHECK(close() == 0); }
};

d::Manifest manifest_from(Rpc& rpc, const Testnet& net) {
    return veil::test::complete_manifest(rpc, net.ports()[0], net.ports().size());
}

// Sends a peer envelope to the peer service at `port`, as a member (or anyone) would.
std::optional<Response> send_peer(Rpc& rpc, std::uint16_t port, const Bytes& envelope) {
    static std::uint32_t next_id = 1;
    auto req = encode_request(Request{next_id++, PeerRequest{envelope}});
    auto answer = rpc.ask(port, kPeerService, req, 10'000);
    if (!answer || answer.value().status != veil::sdk::transport::Status::ok) return std::nullopt;
    return decode_response(Method::peer, answer.value().body);
}

using Owner = veil::test::MailboxOwner;

// Whether the node at `port` holds h; nullopt when it did not answer (down, starting).
std::optional<bool> holds(Rpc& rpc, std::uint16_t port, Owner& o, const Hash& h) {
    auto r = rpc.call(port, o.sign(RetrieveRequest{o.key.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, {}}));
    if (!r || r->status != Status::ok) return std::nullopt;
    for (const auto& m : std::get<PageResponse>(r->body).messages)
        if (m.hash == h) return true;
    return false;
}

// Whether the node at `port` holds h in a public namespace (read unsigned, as anyone may).
std::optional<bool> holds_public(Rpc& rpc, std::uint16_t port, const PublicKey& mailbox, std::uint16_t ns, const Hash& h) {
    auto r = rpc.call(port, RetrieveRequest{mailbox, ns, PageQuery{std::nullopt, 100, 1 << 20}, {}});
    if (!r || r->status != Status::ok) return std::nullopt;
    for (const auto& m : std::get<PageResponse>(r->body).messages)
        if (m.hash == h) return true;
    return false;
}

veil::proto::PublicKey key_at(const d::Manifest& m, std::uint16_t port) {
    for (const auto& n : m.nodes)
        if (n.port == port) return n.ed25519;
    FAIL("no node at this port");
    return {};
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 20s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (cond()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

std::uint64_t signature_checks(Rpc& rpc, std::uint16_t port) {
    auto r = rpc.call(port, InfoRequest{});
    REQUIRE(r);
    REQUIRE(r->status == Status::ok);
    return std::get<InfoResponse>(r->body).peer_signature_checks;
}

// One swarm of three; node-1's key in the hands of the test; a message of `o` on every member.
struct Scene {
    explicit Scene(const std::vector<std::string>& node_options = {}) : net(3, 3, node_options) { setup(); }
    Testnet net;
    Rpc rpc;
    d::Manifest manifest = manifest_from(rpc, net);
    // The hostile member: node-1's real key in the test's hands.
    veil::crypto::SigningKeyPair node1 = veil::crypto::load_or_create_signing_key(net.dir() / "node-1" / "service-node" / "node.key");
    Owner owner;
    Hash hash{};

    void setup() {
        REQUIRE(manifest.find(node1.pub));
        std::optional<Response> r;
        REQUIRE(eventually([&] {
            r = rpc.call(net.ports()[0], StoreRequest{owner.key.pub, 0, 600'000, Bytes{'h', 'i'}});
            return r && r->status == Status::ok;
        }));
        hash = std::get<StoreResponse>(r->body).hash;
        for (auto port : net.ports()) REQUIRE(eventually([&] { return holds(rpc, port, owner, hash) == true; }));
    }
};

}  // namespace

TEST_CASE("node integration - a member's unproven delete leaves the other replicas untouched; a proven one "
          "replicates and survives catch-up",
          "[node][integration]") {
    Scene s;
    const auto& ports = s.net.ports();
    // A deletion with no proof, one with a proof signed by someone else, an unproven short expiry.
    auto mallory = veil::crypto::SigningKeyPair::generate();
    RequestBody forged = DeleteRequest{s.owner.key.pub, 0, {s.hash}, {}};
    sign_owner_request(forged, s.owner.key, now_ms());
    std::get<DeleteRequest>(forged).auth.signature = mallory.sign(owner_signed_bytes(forged));
    auto forged_proof = std::make_shared<const Bytes>(encode_owner_proof(forged));
    veil::proto::node::MessageState gone{s.hash, s.owner.key.pub, 0, now_ms() + 600'000, true};
    veil::proto::node::MessageState shortened{s.hash, s.owner.key.pub, 0, now_ms() + 1'000, false};
    std::vector<veil::proto::node::ReplicaOp> attacks{{gone, std::nullopt, nullptr},
                                               {gone, std::nullopt, forged_proof},
                                               {shortened, std::nullopt, nullptr}};
    for (std::size_t i = 1; i < ports.size(); ++i) {
        for (const auto& op : attacks) {
            auto env = veil::proto::node::seal_peer(veil::proto::node::ReplicateBody{{op}}, s.node1, key_at(s.manifest, ports[i]), now_ms());
            auto r = send_peer(s.rpc, ports[i], env);
            REQUIRE(r);
            CHECK(r->status == Status::ok);  // accepted as a peer request; the ops are ignored
        }
    }
    std::this_thread::sleep_for(1500ms);  // past the shortened expiry
    for (std::size_t i = 1; i < ports.size(); ++i) CHECK(holds(s.rpc, ports[i], s.owner, s.hash) == true);

    // The owner's own delete, while the third member is down: replicated to the second with its
    // proof, and forwarded by catch-up to the third when it comes back.
    s.net.kill9("node-3");
    auto del = s.rpc.call(ports[0], s.owner.sign(DeleteRequest{s.owner.key.pub, 0, {s.hash}, {}}));
    REQUIRE(del);
    REQUIRE(del->status == Status::ok);
    CHECK(eventually([&] { return holds(s.rpc, ports[1], s.owner, s.hash) == false; }));
    s.net.restart("node-3");
    CHECK(eventually([&] { return holds(s.rpc, ports[2], s.owner, s.hash) == false; }, 30s));
}

TEST_CASE("node integration - a member's junk device list is refused by the other replicas; the owner's own "
          "replicates and catches up",
          "[node][integration]") {
    Scene s;
    const auto& ports = s.net.ports();
    const auto& bob = s.owner;
    // Node-1 (hostile) replicates a junk device list into bob's 0x8001: without a store auth,
    // and with one signed by mallory over the junk.
    const Bytes junk{'j', 'u', 'n', 'k'};
    MessageState junk_state{message_hash(bob.key.pub, kDeviceListNamespace, junk), bob.key.pub, kDeviceListNamespace,
                            now_ms() + 600'000, false};
    auto mallory = veil::crypto::SigningKeyPair::generate();
    RequestBody forged = StoreRequest{bob.key.pub, kDeviceListNamespace, 600'000, junk};
    sign_owner_request(forged, bob.key, now_ms());
    std::get<StoreRequest>(forged).auth->signature = mallory.sign(owner_signed_bytes(forged));
    for (std::size_t i = 1; i < ports.size(); ++i) {
        for (const auto& auth : {Bytes{}, encode_store_auth(std::get<StoreRequest>(forged))}) {
            auto env = seal_peer(ReplicateBody{{ReplicaOp{junk_state, junk, nullptr, auth}}}, s.node1,
                                 key_at(s.manifest, ports[i]), now_ms());
            auto r = send_peer(s.rpc, ports[i], env);
            REQUIRE(r);
            CHECK(r->status == Status::ok);  // accepted as a peer request; the op is ignored
        }
    }
    for (std::size_t i = 1; i < ports.size(); ++i)
        CHECK(holds_public(s.rpc, ports[i], bob.key.pub, kDeviceListNamespace, junk_state.hash) == false);

    // Bob's own device list, stored on node-1 while node-3 is down: node-2 takes it from
    // replication, node-3 by catch-up after its restart (the store auth travels with it).
    s.net.kill9("node-3");
    const Bytes list{'l', 'i', 's', 't'};
    auto stored = s.rpc.call(ports[0], s.owner.sign(StoreRequest{bob.key.pub, kDeviceListNamespace, 600'000, list}));
    REQUIRE(stored);
    REQUIRE(stored->status == Status::ok);
    auto hash = std::get<StoreResponse>(stored->body).hash;
    CHECK(eventually([&] { return holds_public(s.rpc, ports[1], bob.key.pub, kDeviceListNamespace, hash) == true; }));
    s.net.restart("node-3");
    CHECK(eventually([&] { return holds_public(s.rpc, ports[2], bob.key.pub, kDeviceListNamespace, hash) == true; },
                     30s));
    for (std::size_t i = 1; i < ports.size(); ++i)
        CHECK(holds_public(s.rpc, ports[i], bob.key.pub, kDeviceListNamespace, junk_state.hash) == false);
}

TEST_CASE("node integration - a member's unpaid envelopes stop at the free fraction on the other replicas",
          "[node][integration][work]") {
    Scene s({"max_messages_per_mailbox=40"});  // free up to 10
    const auto& ports = s.net.ports();
    auto& bob = s.owner;  // holds the scene's one message on every member
    // Node-1 (hostile) replicates 60 junk envelopes into bob's namespace 0 that nobody paid for.
    std::vector<ReplicaOp> junk;
    for (std::uint8_t i = 0; i < 60; ++i) {
        Bytes data{'j', i};
        junk.push_back(ReplicaOp{MessageState{message_hash(bob.key.pub, 0, data), bob.key.pub, 0, now_ms() + 600'000, false},
                                 data});
    }
    for (std::size_t i = 1; i < ports.size(); ++i) {
        auto r = send_peer(s.rpc, ports[i], seal_peer(ReplicateBody{junk}, s.node1, key_at(s.manifest, ports[i]), now_ms()));
        REQUIRE(r);
        CHECK(r->status == Status::ok);  // accepted as a peer request; ops past the free fraction are dropped
    }
    for (std::size_t i = 1; i < ports.size(); ++i) {
        auto inbox = s.rpc.call(ports[i], bob.sign(RetrieveRequest{bob.key.pub, 0, PageQuery{std::nullopt, 100, 1 << 20}, {}}));
        REQUIRE(inbox);
        REQUIRE(inbox->status == Status::ok);
        CHECK(std::get<PageResponse>(inbox->body).messages.size() == 10);
    }
}

TEST_CASE("node integration - a stranger's envelopes naming a member spend its own link's budget, not the "
          "member's",
          "[node][integration]") {
    // A small request burst (so the flood is short) and no periodic catch-up (so what reaches the
    // victim below came by replication).
    Scene s({"peer_request_burst=40", "peer_requests_per_second=0.01", "catch_up_ms=600000"});
    const auto victim = s.net.ports()[1];
    auto stranger = veil::crypto::SigningKeyPair::generate();
    Rpc flood;  // the stranger's own connection
    int bad_signatures = 0;
    int refused = 0;
    for (int i = 0; i < 60; ++i) {
        auto env = veil::proto::node::seal_peer(veil::proto::node::SummaryBody{s.manifest.find(s.node1.pub)->swarm}, stranger,
                                                key_at(s.manifest, victim), now_ms());
        std::copy(s.node1.pub.begin(), s.node1.pub.end(), env.begin() + 1);  // names node-1, unsigned
        auto r = send_peer(flood, victim, env);
        REQUIRE(r);
        bad_signatures += r->status == Status::bad_signature;
        refused += r->status == Status::rate_limited;
    }
    // The link's burst verified, then nothing more: the node stopped checking the stranger.
    CHECK(bad_signatures == 40);
    CHECK(refused == 20);
    // node-1's own replication of a new store still applies on the victim.
    auto r = s.rpc.call(s.net.ports()[0], StoreRequest{s.owner.key.pub, 0, 600'000, Bytes{'a', 'g', 'a', 'i', 'n'}});
    REQUIRE(r);
    REQUIRE(r->status == Status::ok);
    auto hash = std::get<StoreResponse>(r->body).hash;
    CHECK(eventually([&] { return holds(s.rpc, victim, s.owner, hash) == true; }, 10s));
}

TEST_CASE("node integration - a replayed peer envelope is refused", "[node][integration]") {
    Scene s;
    auto to = s.net.ports()[1];
    auto env = veil::proto::node::seal_peer(veil::proto::node::SummaryBody{s.manifest.find(s.node1.pub)->swarm}, s.node1,
                                     key_at(s.manifest, to), now_ms());
    auto first = send_peer(s.rpc, to, env);
    REQUIRE(first);
    CHECK(first->status == Status::ok);
    auto again = send_peer(s.rpc, to, env);
    REQUIRE(again);
    CHECK(again->status == Status::replayed);
    // The same envelope at another member: not addressed to it.
    auto elsewhere = send_peer(s.rpc, s.net.ports()[2], env);
    REQUIRE(elsewhere);
    CHECK(elsewhere->status == Status::unauthorized);
}

TEST_CASE("node integration - a large peer frame from a non-member costs no signature check",
          "[node][integration]") {
    // Swarms of one: no member talks to node-1, so every signature check it counts is ours.
    Testnet net(2, 1);
    Rpc rpc;
    auto manifest = manifest_from(rpc, net);
    auto to = net.ports()[0];
    auto other_swarm = veil::crypto::load_or_create_signing_key(net.dir() / "node-2" / "service-node" / "node.key");
    REQUIRE(manifest.find(other_swarm.pub)->swarm != manifest.find(key_at(manifest, to))->swarm);
    auto ops_of = [](std::size_t total) {
        std::vector<veil::proto::node::ReplicaOp> ops;
        for (int i = 0; i < 16; ++i) ops.push_back(veil::proto::node::ReplicaOp{{}, Bytes(total / 16, 0x5a), nullptr});
        return ops;
    };

    auto before = signature_checks(rpc, to);
    auto stranger = veil::crypto::SigningKeyPair::generate();
    for (const auto* key : {&stranger, &other_swarm}) {
        // 16 MiB: over the port's cap for `peer` frames, refused from the frame header (no answer).
        auto huge = veil::proto::node::seal_peer(veil::proto::node::ReplicateBody{ops_of(kMaxPeerBodyBytes - 8192)}, *key,
                                          key_at(manifest, to), now_ms());
        REQUIRE(huge.size() > (15u << 20));
        CHECK_FALSE(send_peer(rpc, to, huge));
        // Just under the cap: reaches the peer service, refused by the membership check alone.
        auto big = veil::proto::node::seal_peer(veil::proto::node::ReplicateBody{ops_of(900u << 10)}, *key, key_at(manifest, to),
                                         now_ms());
        auto t0 = std::chrono::steady_clock::now();
        auto r = send_peer(rpc, to, big);
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        REQUIRE(r);
        CHECK(r->status == Status::unauthorized);
        WARN("900 KiB peer frame from a non-member refused in " << ms << " ms (round trip)");
    }
    CHECK(signature_checks(rpc, to) == before);
}
