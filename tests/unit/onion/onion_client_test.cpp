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

// The node acting as the client's sticky guard (after one request has chosen it).
TestNode* guard_of(Network& net, OnionClient& client) {
    for (auto& node : net.nodes) {
        if (node->hop.node_id == client.guard()->node_id) return node.get();
    }
    return nullptr;
}

// Some node that is not the guard, to send requests to.
TestNode* other_than(Network& net, TestNode* guard) {
    for (auto& node : net.nodes) {
        if (node.get() != guard) return node.get();
    }
    return nullptr;
}

// A client on a network of N nodes that has sent one request, so that its sticky guard is
// chosen; dest is some node other than the guard.
template <int N>
struct Guarded {
    Network net{N};
    OnionClient client{net.loop.get(), {}};
    TestNode* guard = nullptr;
    TestNode* dest = nullptr;
    Guarded() {
        client.set_nodes(manifest_of(net));
        REQUIRE(send(net, client, request_to(*net.nodes[0], "reverse", {0})).ok());
        guard = guard_of(net, client);
        REQUIRE(guard != nullptr);
        dest = other_than(net, guard);
    }
};

}  // namespace

TEST_CASE_METHOD(Guarded<6>, "onion - the client reaches a destination through three relays, never through itself", "[onion]") {
    auto guard_seen_before = guard->seen.size();
    auto delivered_before = dest->relay->stats().delivered;
    auto forwarded_before = dest->relay->stats().forwarded;
    for (int round = 0; round < 10; ++round) {
        auto answer = send(net, client, request_to(*dest, "reverse", {1, 2}));
        REQUIRE(answer.ok());
        CHECK(answer.value().status == tr::Status::ok);
        CHECK(answer.value().body == wire::Bytes{2, 1});
    }
    // The destination only ever delivered; it never relayed its own requests.
    CHECK(dest->relay->stats().delivered - delivered_before == 10);
    CHECK(dest->relay->stats().forwarded == forwarded_before);
    CHECK(client.stats().attempts == 11);
    // The sticky guard carried every request.
    CHECK(guard->seen.size() - guard_seen_before == 10);
}

TEST_CASE_METHOD(Guarded<7>, "onion - a guard that dies mid-flight: the request completes on a rebuilt path exactly once", "[onion]") {
    // The sticky guard vanishes the moment it sees the next request.
    auto guard_id = guard->hop.node_id;
    guard->relay->set_observer([g = guard](const HopRecord&) { g->listener->close(); });

    auto answer = send(net, client, request_to(*dest, "store", {42}));
    REQUIRE(answer.ok());
    // The first path delivered the store before the guard vanished with its answer; the retry
    // delivered it again. The store kept it once, and the one answer the caller got is the
    // retry's ("already held"): the request took effect once and completed once.
    CHECK(dest->store_calls == 2);
    CHECK(dest->stored.size() == 1);
    CHECK(answer.value().body == wire::Bytes{0});
    CHECK(client.stats().attempts == 3);   // the first request, then the failed path and the retry
    CHECK(client.guard()->node_id != guard_id);
}

TEST_CASE_METHOD(Guarded<5>, "onion - a relay that is down is named by the path and struck alone; the guard stays", "[onion]") {
    TestNode* victim = nullptr;
    for (auto& node : net.nodes) {
        if (node.get() != guard && node.get() != dest) victim = node.get();
    }
    victim->listener->close();
    auto attempts_before = client.stats().attempts;
    for (int round = 0; round < 5; ++round) {
        auto answer = send(net, client, request_to(*dest, "reverse", {1}));
        REQUIRE(answer.ok());
    }
    // At most one path ran into the dead relay; it was struck, the guard was not.
    CHECK(client.stats().attempts - attempts_before <= 6);
    CHECK(client.guard()->node_id == guard->hop.node_id);
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

TEST_CASE_METHOD(Guarded<6>, "onion - a hostile guard that forges the exit's failure gets no honest node blamed", "[onion]") {
    auto honest_struck = [&] {
        std::size_t n = 0;
        for (auto& node : net.nodes) n += node.get() != guard && client.struck(node->hop.node_id);
        return n;
    };

    SECTION("the old text format, \"exit unreachable\"") {
        // Before typed failures every relay rewrote "onion: hop N unreachable" and the client
        // struck hop N: here the exit (hop 2 counted from the guard's next).
        guard->hostile = [](const tr::Inbound&, const sdk::Responder<tr::Response>& reply) {
            std::string text = "onion: hop 2 unreachable";
            reply.reply({tr::Status::error, wire::Bytes(text.begin(), text.end())});
        };
        CHECK_FALSE(send(net, client, request_to(*dest, "reverse", {1})).ok());
        CHECK(honest_struck() == 0);
    }
    SECTION("a typed failure the guard cannot seal under the exit's key") {
        guard->hostile = [](const tr::Inbound&, const sdk::Responder<tr::Response>& reply) {
            Key32 not_the_exits{};
            randombytes_buf(not_the_exits.data(), not_the_exits.size());
            reply.reply({tr::Status::ok, seal_failure(not_the_exits, HopFailure::next_hop_unreachable)});
        };
        // Any hop could have spoiled such an answer: one proves nothing against the guard. When
        // they pile up through paths that share no node but the guard, the guard is blamed
        // (path bias) and the request goes through a new guard.
        std::size_t requests = 0, failed = 0;
        while (!client.struck(guard->hop.node_id) && requests < 40) {
            // Destinations in turn, so that no node but the guard is on every path.
            TestNode* to = net.nodes[1 + requests % (net.nodes.size() - 1)].get();
            if (to == guard) to = net.nodes[0].get();
            failed += !send(net, client, request_to(*to, "reverse", {1})).ok();
            ++requests;
        }
        CHECK(client.struck(guard->hop.node_id));
        CHECK(failed >= 1);  // at least threshold (4) attempts, three per request, before the strike
        CHECK(honest_struck() == 0);
        CHECK(send(net, client, request_to(*dest, "reverse", {1})).ok());
        REQUIRE(client.guard().has_value());
        CHECK(client.guard()->node_id != guard->hop.node_id);
    }
}

TEST_CASE_METHOD(Guarded<6>, "onion - a destination that garbles its sealed answer: after 10 requests the guard is unchanged", "[onion]") {
    // A hostile destination (say the random node asked for a manifest refresh) answers with
    // random bytes of a bucket's size: the client cannot tell who spoiled them.
    // It relays honestly for others.
    dest->hostile = [d = dest](const tr::Inbound& in, const sdk::Responder<tr::Response>& reply) {
        d->relay->handle(in.body, in.link, in.source, [d, reply](sdk::Result<wire::Bytes> r) {
            if (r && d->seen.back().kind == LayerKind::deliver) randombytes_buf(r.value().data(), r.value().size());
            if (r) return reply.reply({tr::Status::ok, std::move(r.value())});
            reply.fail(r.error());
        });
    };
    for (int i = 0; i < 10; ++i) CHECK_FALSE(send(net, client, request_to(*dest, "reverse", {1})).ok());
    REQUIRE(client.guard().has_value());
    CHECK(client.guard()->node_id == guard->hop.node_id);
    CHECK_FALSE(client.struck(guard->hop.node_id));
    // The guard still carries requests to honest destinations.
    auto honest = send(net, client, request_to(*other_than(net, dest), "reverse", {1}));
    INFO((honest.ok() ? std::string() : honest.error().message));
    CHECK(honest.ok());
}

TEST_CASE_METHOD(Guarded<6>, "onion - an exit that proves its failure is believed: the destination is reported, no relay struck", "[onion]") {
    dest->listener->close();
    auto answer = send(net, client, request_to(*dest, "reverse", {1}));
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error().message == "onion: the destination node did not answer");
    for (auto& node : net.nodes) CHECK_FALSE(client.struck(node->hop.node_id));
}

TEST_CASE_METHOD(Guarded<6>, "onion - a public request to the guard itself goes to the guard over one hop, a private one around it",
          "[onion]") {
    auto seen_elsewhere = [&] {
        std::size_t n = 0;
        for (auto& node : net.nodes) n += node.get() != guard ? node->seen.size() : 0;
        return n;
    };
    auto others_before = seen_elsewhere();
    auto request = request_to(*guard, "reverse", {1, 2});
    request.public_content = true;
    auto answer = send(net, client, request);
    REQUIRE(answer.ok());
    CHECK(answer.value().body == wire::Bytes{2, 1});
    CHECK(guard->seen.back().kind == LayerKind::deliver);
    CHECK(seen_elsewhere() == others_before);  // no other node was the entry

    // A private request to the guard never ends at the node it entered by: three other relays.
    request.public_content = false;
    REQUIRE(send(net, client, request).ok());
    CHECK(seen_elsewhere() == others_before + 3);
}

TEST_CASE_METHOD(Guarded<6>, "onion - a destination that never answers: the guard is neither struck nor replaced", "[onion]") {
    // "hold" answers nobody: the client's budget runs out long before the exit's hop timeout.
    auto held = request_to(*dest, "hold", {1});
    held.timeout_ms = 1'500;
    for (int i = 0; i < 2; ++i) {
        auto answer = send(net, client, held);
        REQUIRE_FALSE(answer.ok());
        CHECK(answer.error().code == sdk::ErrorCode::timeout);
    }
    CHECK(dest->held.size() >= 4);  // every attempt reached it
    CHECK_FALSE(client.struck(guard->hop.node_id));
    REQUIRE(client.guard().has_value());
    CHECK(client.guard()->node_id == guard->hop.node_id);
}
