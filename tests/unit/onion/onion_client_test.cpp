#include "onion_client.hpp"
#include "test_network.hpp"

using namespace veil;
using namespace veil::onion;
using namespace veil::onion::test;

namespace {

// The test network as a manifest: every node in its own swarm.
std::vector<NodeInfo> manifest_of(Network& net) {
    std::vector<NodeInfo> out;
    std::uint64_t swarm = 0;
    for (auto& node : net.nodes) out.push_back({node->hop.node_id, node->hop.onion_key, node->hop.address, swarm++});
    return out;
}

tr::Request request_to(TestNode& node, std::string service, wire::Bytes body) {
    tr::Request r;
    r.to.node_key_hex = wire::to_hex(node.hop.node_id);
    r.to.address = node.hop.address;
    r.service = std::move(service);
    r.body = std::move(body);
    r.timeout_ms = 5000;
    return r;
}

sdk::Result<tr::Response> send(Network& net, OnionClient& client, const tr::Request& request) {
    std::optional<sdk::Result<tr::Response>> answer;
    client.send(request, [&](sdk::Result<tr::Response> r) { answer = std::move(r); });
    REQUIRE(net.loop.run_until([&] { return answer.has_value(); }));
    return std::move(*answer);
}

}  // namespace

TEST_CASE("onion - the client reaches a destination through three relays, never through itself", "[onion]") {
    Network net(6);
    OnionClient client(net.loop.get(), {});
    client.set_nodes(manifest_of(net));
    for (int round = 0; round < 10; ++round) {
        auto answer = send(net, client, request_to(*net.nodes[5], "reverse", {1, 2}));
        REQUIRE(answer.ok());
        CHECK(answer.value().status == tr::Status::ok);
        CHECK(answer.value().body == wire::Bytes{2, 1});
    }
    // The destination only ever delivered; it never relayed its own requests.
    CHECK(net.nodes[5]->relay->stats().delivered == 10);
    CHECK(net.nodes[5]->relay->stats().forwarded == 0);
    CHECK(client.stats().attempts == 10);
    // One sticky guard carried everything.
    int guards = 0;
    for (auto& node : net.nodes) {
        if (node->relay->stats().forwarded >= 10 && !node->seen.empty() && node->seen.size() == 10) ++guards;
    }
    CHECK(guards >= 1);
}

TEST_CASE("onion - a guard that dies mid-flight: the request completes on a rebuilt path exactly once", "[onion]") {
    Network net(7);
    OnionClient client(net.loop.get(), {});
    client.set_nodes(manifest_of(net));
    // Learn the sticky guard, then make it vanish the moment it sees the next request.
    REQUIRE(send(net, client, request_to(*net.nodes[6], "reverse", {0})).ok());
    auto guard_id = client.guard()->node_id;
    TestNode* guard = nullptr;
    for (auto& node : net.nodes) {
        if (node->hop.node_id == guard_id) guard = node.get();
    }
    REQUIRE(guard != nullptr);
    REQUIRE(guard != net.nodes[6].get());
    guard->relay->set_observer([guard](const HopRecord&) { guard->listener->close(); });

    auto answer = send(net, client, request_to(*net.nodes[6], "store", {42}));
    REQUIRE(answer.ok());
    CHECK(answer.value().body.size() == 1);
    CHECK(net.nodes[6]->stored.size() == 1);  // kept once, however often it arrived
    CHECK(client.stats().attempts == 3);       // the first request, then the failed path and the retry
    CHECK(client.guard()->node_id != guard_id);
}

TEST_CASE("onion - a destination outside the manifest or a network too small is a clear error", "[onion]") {
    Network net(3);
    OnionClient client(net.loop.get(), {});
    auto nodes = manifest_of(net);
    client.set_nodes({nodes[0], nodes[1], nodes[2]});
    tr::Request stranger = request_to(*net.nodes[0], "reverse", {});
    stranger.to.node_key_hex = std::string(64, 'a');
    auto r = send(net, client, stranger);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "onion: destination is not in the manifest");
    // Three nodes cannot give a three-relay path that avoids the destination.
    auto small = send(net, client, request_to(*net.nodes[0], "reverse", {}));
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code == sdk::ErrorCode::unreachable);
}
