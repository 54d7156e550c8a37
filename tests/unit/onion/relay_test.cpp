#include "test_network.hpp"

using namespace veil;
using namespace veil::onion;
using namespace veil::onion::test;


TEST_CASE("onion - a request crosses three relays over TCP and the answer comes back sealed", "[onion]") {
    Network net(4);
    auto relays = hops(net, {0, 1, 2});
    auto sealed = seal_request(relays, net.nodes[3]->hop, "reverse", wire::Bytes{1, 2, 3}, wall_clock_ms());
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    auto inner = tr::decode_service_response(open_response(sealed.keys, answer.value()), kMaxBlobBytes);
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
    auto inner = tr::decode_service_response(open_response(sealed.keys, answer.value()), kMaxBlobBytes);
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

TEST_CASE("onion - a next hop that is gone: the relay before it reports a typed failure", "[onion]") {
    Network net(3);
    auto sealed = seal_request(hops(net, {0, 1}), net.nodes[2]->hop, "reverse", {}, wall_clock_ms());
    net.nodes[1]->listener->close();
    auto answer = net.send(sealed.blob);
    // The guard says so itself, sealed under its key with the client: a typed failure.
    REQUIRE(answer.ok());
    auto opened = open_answer(sealed.keys, answer.value());
    CHECK(opened.from == 0);
    REQUIRE(opened.failure.has_value());
    CHECK(*opened.failure == HopFailure::next_hop_unreachable);
    CHECK(net.nodes[0]->relay->stats().failed == 1);
}

TEST_CASE("onion - a large request travels in a large bucket", "[onion]") {
    Network net(4);
    wire::Bytes body(200'000, 0x5a);
    auto sealed = seal_request(hops(net, {0, 1, 2}), net.nodes[3]->hop, "reverse", body, wall_clock_ms());
    CHECK(sealed.blob.size() == 256 * 1024);
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    auto inner = tr::decode_service_response(open_response(sealed.keys, answer.value()), kMaxBlobBytes);
    REQUIRE(inner.ok());
    CHECK(inner.value().body.size() == body.size());
}

TEST_CASE("onion - one source cannot hold more than its share of a relay's requests, whatever its links", "[onion]") {
    // Each link is under its own budget; the source (127.0.0.1 for every link here) is not.
    RelayOptions options;
    options.max_in_flight_per_source = 3;
    Network net(1, options);
    auto ep = sdk::net::parse_endpoint(net.nodes[0]->hop.address).value();
    sdk::net::ClientOptions client_options;
    client_options.max_frame_bytes = kMaxBlobBytes + 1024;
    std::vector<std::unique_ptr<sdk::net::Client>> links;
    std::vector<std::optional<sdk::Result<wire::Bytes>>> answers(5);
    for (std::size_t i = 0; i < answers.size(); ++i) {
        // One request per link, each held by the destination's "hold" service.
        links.push_back(std::make_unique<sdk::net::Client>(net.loop.get(), ep, client_options));
        auto sealed = seal_request({}, net.nodes[0]->hop, "hold", wire::Bytes{static_cast<std::uint8_t>(i)},
                                   wall_clock_ms());
        links.back()->request(tr::encode_service_request(kOnionService, sealed.blob), 60'000,
                              [&answers, i](sdk::Result<wire::Bytes> r) { answers[i] = std::move(r); });
    }
    auto& node = *net.nodes[0];
    REQUIRE(net.loop.run_until([&] { return node.held.size() + node.relay->stats().busy == answers.size(); }));
    CHECK(node.held.size() == 3);
    CHECK(node.relay->stats().busy == 2);
    CHECK(node.relay->in_flight() == 3);
    // Once the held requests are answered, the source's slots come back.
    for (auto& reply : node.held) reply.reply({tr::Status::ok, {}});
    node.held.clear();
    REQUIRE(net.loop.run_until([&] { return node.relay->in_flight() == 0; }));
    auto sealed = seal_request({}, node.hop, "reverse", wire::Bytes{1, 2}, wall_clock_ms());
    CHECK(net.send(sealed.blob).ok());
    for (auto& link : links) link->close();
}

namespace {

// Everything `node` saw of one request: the blobs on both its links, both ways, and the time
// in its slot.
std::vector<wire::Bytes> view_of(const TestNode& node) {
    std::vector<wire::Bytes> view = node.frames;
    for (const auto& record : node.seen) view.push_back(wire::Writer{}.u64(record.created_ms).take());
    return view;
}

// The first byte string of `n` bytes that occurs in both views, as hex ("" if none).
std::string common_string(const std::vector<wire::Bytes>& a, const std::vector<wire::Bytes>& b, std::size_t n) {
    std::set<wire::Bytes> windows;
    for (const auto& piece : a) {
        for (std::size_t i = 0; i + n <= piece.size(); ++i) windows.emplace(piece.begin() + i, piece.begin() + i + n);
    }
    for (const auto& piece : b) {
        for (std::size_t i = 0; i + n <= piece.size(); ++i) {
            wire::Bytes w(piece.begin() + i, piece.begin() + i + n);
            if (windows.count(w)) return wire::to_hex(w);
        }
    }
    return "";
}

}  // namespace

TEST_CASE("onion - the guard and the destination see no byte string of 8 bytes in common", "[onion]") {
    // docs/onion.md "What each hop can learn": the guard and the destination share only sizes
    // and timing. A colluding pair must not be able to match their records of a request.
    Network net(4);
    auto sealed = seal_request(hops(net, {0, 1, 2}), net.nodes[3]->hop, "reverse", wire::Bytes{1, 2, 3}, wall_clock_ms());
    auto answer = net.send(sealed.blob);
    REQUIRE(answer.ok());
    CHECK(open_response(sealed.keys, answer.value()) == tr::encode_service_response({tr::Status::ok, {3, 2, 1}}));
    auto& guard = *net.nodes[0];
    auto& dest = *net.nodes[3];
    REQUIRE(guard.frames.size() == 4);  // in from the client, out to the middle, back in, back out
    REQUIRE(dest.frames.size() == 2);   // in from the exit, the answer back out
    CHECK(common_string(view_of(guard), view_of(dest), 8).empty());
    // Every link carried different bytes in each direction: no two relays saw the same blob.
    for (std::size_t i = 0; i < net.nodes.size(); ++i) {
        for (std::size_t j = i + 1; j < net.nodes.size(); ++j) {
            // Neighbours share their link's two blobs; anything else is a link between hops.
            std::size_t shared = 0;
            for (const auto& f : net.nodes[i]->frames) shared += std::count(net.nodes[j]->frames.begin(), net.nodes[j]->frames.end(), f);
            CHECK(shared == (j == i + 1 ? 2u : 0u));
        }
    }
}

TEST_CASE("onion - sizes off the buckets: a tagged packet is refused by the hop that gets it, a tagged answer by the exit",
          "[onion]") {
    Network net(4);
    auto sealed = seal_request(hops(net, {0, 1, 2}), net.nodes[3]->hop, "reverse", wire::Bytes{1}, wall_clock_ms());

    SECTION("a request packet k bytes longer than its bucket goes no further than the first relay") {
        auto tagged = sealed.blob;
        tagged.resize(tagged.size() + 9, 0);
        auto answer = net.send(tagged);
        REQUIRE_FALSE(answer.ok());
        CHECK(net.nodes[0]->relay->stats().refused == 1);
        CHECK(net.nodes[1]->frames.empty());
    }
    SECTION("a destination's answer of 1024 + k bytes never reaches the guard: the exit reports it") {
        net.nodes[3]->hostile = [](const tr::Inbound&, const sdk::Responder<tr::Response>& reply) {
            wire::Bytes tagged(1024 + 16);
            randombytes_buf(tagged.data(), tagged.size());
            reply.reply({tr::Status::ok, std::move(tagged)});
        };
        auto answer = net.send(sealed.blob);
        REQUIRE(answer.ok());
        auto opened = open_answer(sealed.keys, answer.value());
        CHECK(opened.from == 2);
        REQUIRE(opened.failure.has_value());
        CHECK(*opened.failure == HopFailure::next_hop_unreachable);
        for (const auto& frame : net.nodes[0]->frames) CHECK(is_bucket_size(frame.size()));
    }
}
