#pragma once
// A miniature onion network inside one test process: nodes with their own bus, a real TCP
// listener (the direct transport's inbound side) and the onion relay, on one libuv loop.
#include <catch2/catch.hpp>
#include <sodium.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <set>

#include "support/loop.hpp"
#include "direct_transport.hpp"
#include "relay.hpp"

namespace veil::onion::test {

namespace tr = veil::sdk::transport;


// One service node in miniature: its own bus, a real TCP listener (the direct transport's
// inbound side) and the onion relay serving "onion" on that bus.
struct TestNode {
    std::unique_ptr<sdk::Bus> bus;
    std::unique_ptr<direct::DirectTransport> listener;
    std::unique_ptr<Relay> relay;
    std::vector<sdk::Subscription> served;
    Hop hop;
    std::vector<HopRecord> seen;
    std::set<veil::wire::Bytes> stored;  // the "store" service keeps each body once, like a swarm
    int store_calls = 0;
    std::vector<sdk::Responder<tr::Response>> held;  // the "hold" service answers nobody
    std::vector<veil::wire::Bytes> frames;           // every onion blob the relay received or sent
    // A hostile node: when set, it answers onion blobs itself instead of relaying them.
    std::function<void(const tr::Inbound&, const sdk::Responder<tr::Response>&)> hostile;

    TestNode(uv_loop_t* loop, const NodeLookup& lookup, RelayOptions relay_options = {}) {
        bus = std::make_unique<sdk::Bus>(loop);
        direct::Options options;
        options.max_frame_bytes = kMaxBlobBytes + 1024;
        listener = std::make_unique<direct::DirectTransport>(
            loop, *bus, options, std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
        auto bound = listener->listen({"127.0.0.1", 0});
        REQUIRE(bound.ok());
        hop.address = bound.value().to_string();
        randombytes_buf(hop.node_id.data(), 32);
        auto node_key = veil::crypto::make_key_agreement(veil::crypto::DhKeyPair::generate());
        hop.onion_key = node_key->public_key();
        relay = std::make_unique<Relay>(loop, *bus, std::move(node_key), lookup, relay_options);
        relay->set_observer([this](const HopRecord& r) { seen.push_back(r); });
        relay->set_frame_observer([this](veil::wire::ByteView b) { frames.emplace_back(b.begin(), b.end()); });
        served.push_back(bus->serve<tr::Inbound>(
            [this](const tr::Inbound& in, sdk::Responder<tr::Response> reply) {
                if (hostile) return hostile(in, reply);
                relay->handle(in.body, in.link, in.source, [reply](sdk::Result<veil::wire::Bytes> r) {
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
                reply.reply({tr::Status::ok, veil::wire::Bytes(in.body.rbegin(), in.body.rend())});
            },
            "reverse"));
        served.push_back(bus->serve<tr::Inbound>(
            [this](const tr::Inbound& in, sdk::Responder<tr::Response> reply) {
                ++store_calls;
                bool fresh = stored.insert(in.body).second;
                reply.reply({tr::Status::ok, veil::wire::Bytes{static_cast<std::uint8_t>(fresh)}});
            },
            "store"));
        served.push_back(bus->serve<tr::Inbound>(
            [this](const tr::Inbound&, sdk::Responder<tr::Response> reply) { held.push_back(std::move(reply)); },
            "hold"));
    }
    ~TestNode() {
        held.clear();
        served.clear();
        relay.reset();
        listener->close();
        bus->close();
    }
};

struct Network {
    veil::test::TestLoop loop;
    std::vector<std::unique_ptr<TestNode>> nodes;
    bool listed = true;

    explicit Network(int n, RelayOptions relay_options = {}) {
        NodeLookup lookup = [this](const Key32& id, const std::string& address) {
            if (!listed) return false;
            for (auto& node : nodes) {
                if (node->hop.node_id == id) return node->hop.address == address;
            }
            return false;
        };
        for (int i = 0; i < n; ++i) nodes.push_back(std::make_unique<TestNode>(loop.get(), lookup, relay_options));
    }
    ~Network() {
        nodes.clear();
        loop.run_until([] { return false; }, 50);
    }

    // Sends a blob to the first node as a client would, and runs the loop until the answer.
    sdk::Result<veil::wire::Bytes> send(const veil::wire::Bytes& blob) {
        auto ep = sdk::net::parse_endpoint(nodes[0]->hop.address).value();
        sdk::net::ClientOptions options;
        options.max_frame_bytes = kMaxBlobBytes + 1024;
        sdk::net::Client client(loop.get(), ep, options);
        std::optional<sdk::Result<veil::wire::Bytes>> answer;
        client.request(tr::encode_service_request(kOnionService, blob), 5000,
                       [&](sdk::Result<veil::wire::Bytes> r) { answer = std::move(r); });
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

inline std::vector<Hop> hops(Network& net, std::initializer_list<int> which) {
    std::vector<Hop> out;
    for (int i : which) out.push_back(net.nodes[static_cast<std::size_t>(i)]->hop);
    return out;
}


}  // namespace veil::onion::test
