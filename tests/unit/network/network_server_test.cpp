// NetworkServer: the swarm calls and GetManifest on the bus, served from a manifest accepted by
// the ManifestSource, with a fake transport that plays each node's answer.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <map>
#include <optional>
#include <set>

#include "support/loop.hpp"
#include "network_server.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/swarm.hpp"
#include "veil/sdk/transport.hpp"

namespace {

using namespace veil;
namespace sw = sdk::swarm;
namespace tr = sdk::transport;
namespace node = proto::node;

constexpr proto::SwarmId kLowSwarm = 0;
constexpr proto::SwarmId kHighSwarm = 1ULL << 63;

// What a fake node does with a request.
enum class Plays : std::uint8_t { ok = 1, unreachable, unauthorized, wrong_swarm };

struct Rig {
    test::TestLoop loop;
    sdk::Bus bus{loop.get()};
    sdk::CommandRegistry commands;
    std::optional<sdk::Context> ctx;
    crypto::SigningKeyPair authority = crypto::SigningKeyPair::generate();
    proto::Manifest manifest;
    std::optional<network::ManifestSource> source;
    std::optional<network::NetworkServer> server;
    std::map<proto::PublicKey, Plays> plays;  // by node key; ok when absent
    std::vector<proto::NodeEntry> redirect_to;  // the members a wrong_swarm answer names
    std::vector<proto::PublicKey> asked;        // node keys, in order

    Rig() {
        REQUIRE(sodium_init() >= 0);
        ctx.emplace(sdk::Context::Parts{loop.get(), &bus, &commands, "network", {}, "/nonexistent", nullptr});
        manifest.version = 1;
        manifest.valid_until_ms = UINT64_MAX;  // never expires: these tests are about other checks
        for (std::uint16_t i = 0; i < 6; ++i) {
            auto k = crypto::SigningKeyPair::generate();
            manifest.nodes.push_back({k.pub, crypto::ed25519_to_x25519(k.pub), "127.0.0.1",
                                      static_cast<std::uint16_t>(20000 + i), i % 2 ? kHighSwarm : kLowSwarm});
        }
        std::sort(manifest.nodes.begin(), manifest.nodes.end(),
                  [](const auto& a, const auto& b) { return a.ed25519 < b.ed25519; });
        network::ManifestSourceOptions o;
        o.authorities = {authority.pub};
        source.emplace(loop.get(), o, [this](const proto::SignedManifest& m, const wire::Bytes&) {
            if (server) server->manifest_accepted(std::make_shared<const proto::Manifest>(m.manifest));
        });
        server.emplace(*ctx, *source);
        ctx->serve<tr::Request>([this](const tr::Request& r, sdk::Responder<tr::Response> reply) { answer(r, reply); });
    }
    ~Rig() {
        server.reset();
        source.reset();
        ctx.reset();
        bus.close();
        CHECK(loop.close() == 0);
    }

    void accept_manifest() {
        std::vector<const crypto::SigningKeyPair*> keys{&authority};
        REQUIRE_FALSE(source->offer(proto::sign_manifest(manifest, keys).encode()).has_value());
    }

    // The fake transport: each node answers as `plays` says.
    void answer(const tr::Request& r, const sdk::Responder<tr::Response>& reply) {
        auto key = wire::to_array<32>(wire::from_hex(r.to.node_key_hex));
        asked.push_back(key);
        auto q = node::decode_request(r.body);
        auto method = node::method_of(q.body);
        auto it = plays.find(key);
        auto play = it == plays.end() ? Plays::ok : it->second;
        node::Response out{q.id, node::Status::ok, node::StoreResponse{}};
        switch (play) {
            case Plays::unreachable: return reply.fail(sdk::ErrorCode::unreachable, "connection refused");
            case Plays::unauthorized: out = {q.id, node::Status::unauthorized, node::ErrorResponse{"no"}}; break;
            case Plays::wrong_swarm: out = {q.id, node::Status::wrong_swarm, node::SwarmResponse{kHighSwarm, redirect_to}}; break;
            case Plays::ok:
                if (method == node::Method::info) out.body = node::InfoResponse{"t", key, 0, 1, 0};
                break;
        }
        reply.reply({tr::Status::ok, node::encode_response(method, out)});
    }

    // A mailbox of the low swarm, and its members.
    proto::PublicKey low_mailbox() const {
        proto::PublicKey m{};
        REQUIRE(manifest.swarm_for(m) == kLowSwarm);
        return m;
    }
    std::vector<proto::NodeEntry> members(proto::SwarmId s) const { return manifest.members(s); }

    template <class R>
    std::optional<sdk::Result<typename R::Reply>> call(R q, const std::function<void()>& meanwhile = {}) {
        std::optional<sdk::Result<typename R::Reply>> got;
        REQUIRE(bus.request<R>(std::move(q), 0, [&](sdk::Result<typename R::Reply> r) { got.emplace(std::move(r)); }));
        if (meanwhile) {
            loop.run_until([] { return false; }, 100);
            CHECK_FALSE(got);
            meanwhile();
        }
        loop.run_until([&] { return got.has_value(); });
        return got;
    }
};

sw::ToSwarm store_to(const proto::PublicKey& mailbox, std::uint32_t timeout_ms = 5'000) {
    sw::ToSwarm q{mailbox, node::StoreRequest{mailbox, 0, 60'000, {1, 2, 3}}};
    q.timeout_ms = timeout_ms;
    return q;
}

}  // namespace

TEST_CASE("network - a swarm call made before the first manifest waits for it", "[node][network]") {
    Rig rig;
    auto got = rig.call(store_to(rig.low_mailbox()), [&] { rig.accept_manifest(); });
    REQUIRE(got);
    REQUIRE(got->ok());
    CHECK(got->value().status == node::Status::ok);
    REQUIRE(rig.asked.size() == 1);
    auto low = rig.members(kLowSwarm);
    CHECK(std::any_of(low.begin(), low.end(), [&](const auto& n) { return n.ed25519 == rig.asked[0]; }));
}

TEST_CASE("network - without a manifest, calls fail with not_found at their deadline", "[node][network]") {
    Rig rig;
    auto swarm = rig.call(store_to(rig.low_mailbox(), 50));
    REQUIRE(swarm);
    REQUIRE_FALSE(swarm->ok());
    CHECK(swarm->error().code == sdk::ErrorCode::not_found);
    auto now = rig.call(sdk::network::GetManifest{});
    REQUIRE_FALSE(now->ok());
    CHECK(now->error().code == sdk::ErrorCode::not_found);
    CHECK(rig.asked.empty());
}

TEST_CASE("network - GetManifest waits for the first manifest and gives it decoded", "[node][network]") {
    Rig rig;
    sdk::network::GetManifest q;
    q.wait_ms = 5'000;
    auto got = rig.call(q, [&] { rig.accept_manifest(); });
    REQUIRE(got->ok());
    CHECK(got->value().version == 1);
    CHECK(*got->value().manifest == rig.manifest);
    CHECK(got->value().signed_manifest == rig.source->envelope());
}

TEST_CASE("network - ToSwarm moves to the next member when one is unreachable", "[node][network]") {
    Rig rig;
    rig.accept_manifest();
    auto low = rig.members(kLowSwarm);
    REQUIRE(low.size() == 3);
    rig.plays[low[0].ed25519] = Plays::unreachable;
    rig.plays[low[1].ed25519] = Plays::unreachable;
    auto got = rig.call(store_to(rig.low_mailbox()));
    REQUIRE(got->ok());
    CHECK(got->value().status == node::Status::ok);
    CHECK(rig.asked.back() == low[2].ed25519);

    SECTION("and fails with the transport's error when every attempt failed") {
        rig.plays[low[2].ed25519] = Plays::unreachable;
        auto failed = rig.call(store_to(rig.low_mailbox()));
        REQUIRE_FALSE(failed->ok());
        CHECK(failed->error().code == sdk::ErrorCode::unreachable);
    }
}

TEST_CASE("network - ToSwarm follows a wrong_swarm answer to the members the node names", "[node][network]") {
    Rig rig;
    rig.accept_manifest();
    for (const auto& n : rig.members(kLowSwarm)) rig.plays[n.ed25519] = Plays::wrong_swarm;
    auto high = rig.members(kHighSwarm);
    rig.redirect_to = {high[0]};
    auto got = rig.call(store_to(rig.low_mailbox()));
    REQUIRE(got->ok());
    CHECK(got->value().status == node::Status::ok);
    REQUIRE(rig.asked.size() == 2);
    CHECK(rig.asked[1] == high[0].ed25519);
}

TEST_CASE("network - ToSwarm does not follow a wrong_swarm answer to members the manifest does not list",
          "[node][network]") {
    Rig rig;
    rig.accept_manifest();
    for (const auto& n : rig.members(kLowSwarm)) rig.plays[n.ed25519] = Plays::wrong_swarm;
    auto high = rig.members(kHighSwarm);
    auto stranger = crypto::SigningKeyPair::generate();
    proto::NodeEntry forged{stranger.pub, crypto::ed25519_to_x25519(stranger.pub), "127.0.0.1", 6666, kHighSwarm};
    proto::NodeEntry moved = high[0];
    moved.port = 6667;  // a listed key at an address the manifest does not give it
    rig.redirect_to = {forged, moved};
    auto got = rig.call(store_to(rig.low_mailbox(), 1'000));
    for (const auto& k : rig.asked) {
        CHECK(k != stranger.pub);
        CHECK(k != high[0].ed25519);
    }
    REQUIRE(got);
    CHECK(rig.asked.size() == 1);
}

TEST_CASE("network - ToSwarm gives a node's refusal as the answer", "[node][network]") {
    Rig rig;
    rig.accept_manifest();
    for (const auto& n : rig.members(kLowSwarm)) rig.plays[n.ed25519] = Plays::unauthorized;
    auto got = rig.call(store_to(rig.low_mailbox()));
    REQUIRE(got->ok());
    CHECK(got->value().status == node::Status::unauthorized);
    CHECK(rig.asked.size() == 1);
}

TEST_CASE("network - ToEveryMember asks every member and gives every answer", "[node][network]") {
    Rig rig;
    rig.accept_manifest();
    auto low = rig.members(kLowSwarm);
    rig.plays[low[0].ed25519] = Plays::unreachable;
    rig.plays[low[1].ed25519] = Plays::unauthorized;
    auto mailbox = rig.low_mailbox();
    auto got = rig.call(sw::ToEveryMember{mailbox, node::StoreRequest{mailbox, 0, 60'000, {1}}});
    REQUIRE(got->ok());
    std::multiset<node::Status> statuses;
    for (const auto& a : got->value().answers) statuses.insert(a.status);
    CHECK(statuses == std::multiset<node::Status>{node::Status::ok, node::Status::unauthorized});
    CHECK(std::set<proto::PublicKey>(rig.asked.begin(), rig.asked.end()).size() == 3);

    SECTION("and fails when no member answered") {
        for (const auto& n : low) rig.plays[n.ed25519] = Plays::unreachable;
        auto failed = rig.call(sw::ToEveryMember{mailbox, node::StoreRequest{mailbox, 0, 60'000, {1}}});
        REQUIRE_FALSE(failed->ok());
        CHECK(failed->error().code == sdk::ErrorCode::unreachable);
    }
}

TEST_CASE("network - ToNode asks the named node only, with no manifest needed", "[node][network]") {
    Rig rig;
    auto target = rig.manifest.nodes[4];
    auto got = rig.call(sw::ToNode{target, node::InfoRequest{}});
    REQUIRE(got->ok());
    CHECK(std::get<node::InfoResponse>(got->value().body).node_key == target.ed25519);
    CHECK(rig.asked == std::vector<proto::PublicKey>{target.ed25519});
}
