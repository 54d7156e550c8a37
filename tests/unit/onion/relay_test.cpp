#include <catch2/catch.hpp>
#include <sodium.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>

#include "../kernel/loop_helpers.hpp"
#include "direct_transport.hpp"
#include "relay.hpp"

using namespace veil;
using namespace veil::onion;
namespace tr = veil::sdk::transport;

namespace {

// One service node in miniature: its own bus, a real TCP listener (the direct transport's
// inbound side) and the onion relay serving "onion" on that bus.
struct TestNode {
    std::unique_ptr<sdk::Bus> bus;
    std::unique_ptr<direct::DirectTransport> listener;
    std::unique_ptr<Relay> relay;
    std::vector<sdk::Subscription> served;
    Hop hop;
    std::vector<HopRecord> seen;

    TestNode(uv_loop_t* loop, const NodeLookup& lookup) {
        bus = std::make_unique<sdk::Bus>(loop);
        direct::Options options;
        options.max_frame_bytes = kMaxBlobBytes + 1024;
        listener = std::make_unique<direct::DirectTransport>(
            loop, *bus, options, std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
        auto bound = listener->listen({"127.0.0.1", 0});
        REQUIRE(bound.ok());
        hop.address = bound.value().to_string();
        randombytes_buf(hop.node_id.data(), 32);
        auto keys = crypto::DhKeyPair::generate();
        hop.onion_key = keys.pub;
        relay = std::make_unique<Relay>(loop, *bus, std::move(keys), lookup, RelayOptions{});
        relay->set_observer([this](const HopRecord& r) { seen.push_back(r); });
        served.push_back(bus->serve<tr::Inbound>(
            [this](const tr::Inbound& in, sdk::Responder<tr::Response> reply) {
                relay->handle(in.body, [reply](sdk::Result<wire::Bytes> r) {
                    if (r) {
                        reply.reply({tr::Status::ok, std::move(r.value())});
                    } else {
                        reply.fail(r.error());
                    }
                });
            },
            kOnionService));
        // A local service for requests that end here.
        served.push_back(bus->serve<tr::Inbound>(
            [](const tr::Inbound& in, sdk::Responder<tr::Response> reply) {
                reply.reply({tr::Status::ok, wire::Bytes(in.body.rbegin(), in.body.rend())});
            },
            "reverse"));
    }
    ~TestNode() {
        served.clear();
        relay.reset();
        listener->close();
        bus->close();
    }
};

struct Network {
    test::TestLoop loop;
    std::vector<std::unique_ptr<TestNode>> nodes;
    bool listed = true;

    explicit Network(int n) {
        NodeLookup lookup = [this](const Key32& id, const std::string& address) {
            if (!listed) return false;
            for (auto& node : nodes) {
                if (node->hop.node_id == id) return node->hop.address == address;
            }
            return false;
        };
        for (int i = 0; i < n; ++i) nodes.push_back(std::make_unique<TestNode>(loop.get(), lookup));
    }
    ~Network() {
        nodes.clear();
        loop.run_until([] { return false; }, 50);
    }

    // Sends a blob to the first node as a client would, and runs the loop until the answer.
    sdk::Result<wire::Bytes> send(const wire::Bytes& blob) {
        auto ep = sdk::net::parse_endpoint(nodes[0]->hop.address).value();
        sdk::net::ClientOptions options;
        options.max_frame_bytes = kMaxBlobBytes + 1024;
        sdk::net::Client client(loop.get(), ep, options);
        std::optional<sdk::Result<wire::Bytes>> answer;
        client.request(tr::encode_service_request(kOnionService, blob), 5000,
                       [&](sdk::Result<wire::Bytes> r) { answer = std::move(r); });
        REQUIRE(loop.run_until([&] { return answer.has_value(); }));
        client.close();
        if (!answer->ok()) return std::move(*answer);
        // The guard answers with a service response whose body is the sealed blob.
        auto response = tr::decode_service_response(answer->value(), kMaxBlobBytes);
        REQUIRE(response.ok());
        if (response.value().status != tr::Status::ok) {
            return sdk::Error{sdk::ErrorCode::handler_failed,
                              std::string(response.value().body.begin(), response.value().body.end())};
        }
        return std::move(response.value().body);
    }
};

std::vector<Hop> hops(Network& net, std::initializer_list<int> which) {
    std::vector<Hop> out;
    for (int i : which) out.push_back(net.nodes[static_cast<std::size_t>(i)]->hop);
    return out;
}

}  // namespace

TEST_CASE("onion - a request crosses three relays over TCP and the answer comes back sealed", "[onion]") {
    Network net(4);
    auto relays = hops(net, {0, 1, 2});
    auto sealed = seal_request(relays, net.nodes[3]->hop, "reverse", wire::Bytes{1, 2, 3}, wall_clock_ms());
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    auto inner = tr::decode_service_response(open_response(sealed.response_key, answer.value()), kMaxBlobBytes);
    REQUIRE(inner.ok());
    CHECK(inner.value().status == tr::Status::ok);
    CHECK(inner.value().body == wire::Bytes{3, 2, 1});

    // Each hop saw only the next address; only the destination saw the service.
    REQUIRE(net.nodes[0]->seen.size() == 1);
    CHECK(net.nodes[0]->seen[0].next_address == net.nodes[1]->hop.address);
    CHECK(net.nodes[1]->seen[0].next_address == net.nodes[2]->hop.address);
    CHECK(net.nodes[2]->seen[0].next_address == net.nodes[3]->hop.address);
    CHECK(net.nodes[3]->seen[0].kind == LayerKind::deliver);
    CHECK(net.nodes[3]->seen[0].service == "reverse");
    for (int i = 0; i < 3; ++i) CHECK(net.nodes[static_cast<std::size_t>(i)]->seen[0].service.empty());
}

TEST_CASE("onion - an unknown service at the destination is reported, sealed, to the client", "[onion]") {
    Network net(2);
    auto sealed = seal_request(hops(net, {0}), net.nodes[1]->hop, "nope", {}, wall_clock_ms());
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    auto inner = tr::decode_service_response(open_response(sealed.response_key, answer.value()), kMaxBlobBytes);
    REQUIRE(inner.ok());
    CHECK(inner.value().status == tr::Status::unknown_service);
}

TEST_CASE("onion - a replayed blob is refused by the first hop", "[onion]") {
    Network net(3);
    auto sealed = seal_request(hops(net, {0, 1}), net.nodes[2]->hop, "reverse", wire::Bytes{9}, wall_clock_ms());
    REQUIRE(net.send(sealed.blob).ok());
    auto again = net.send(sealed.blob);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message.find("onion: bad layer") != std::string::npos);
    CHECK(net.nodes[0]->relay->stats().refused == 1);
    CHECK(net.nodes[2]->relay->stats().delivered == 1);
}

TEST_CASE("onion - a relay forwards only to nodes listed at that address", "[onion]") {
    Network net(3);
    net.listed = false;
    auto sealed = seal_request(hops(net, {0, 1}), net.nodes[2]->hop, "reverse", {}, wall_clock_ms());
    auto answer = net.send(sealed.blob);
    REQUIRE_FALSE(answer.ok());
    CHECK(net.nodes[0]->relay->stats().refused == 1);
    CHECK(net.nodes[1]->relay->stats().forwarded == 0);
}

TEST_CASE("onion - a next hop that is gone fails the request with a short error", "[onion]") {
    Network net(3);
    auto sealed = seal_request(hops(net, {0, 1}), net.nodes[2]->hop, "reverse", {}, wall_clock_ms());
    net.nodes[1]->listener->close();
    auto answer = net.send(sealed.blob);
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error().message.find("onion: next hop failed") != std::string::npos);
    CHECK(net.nodes[0]->relay->stats().failed == 1);
}

TEST_CASE("onion - a large request travels in a large bucket", "[onion]") {
    Network net(4);
    wire::Bytes body(200'000, 0x5a);
    auto sealed = seal_request(hops(net, {0, 1, 2}), net.nodes[3]->hop, "reverse", body, wall_clock_ms());
    CHECK(sealed.blob.size() == 256 * 1024);
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    auto inner = tr::decode_service_response(open_response(sealed.response_key, answer.value()), kMaxBlobBytes);
    REQUIRE(inner.ok());
    CHECK(inner.value().body.size() == body.size());
}
