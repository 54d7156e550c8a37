// The onion relay under attack (issue 13, item 4): parked subscribes, nested paths, a full
// replay cache, and onion-wrapped storage floods. Real node processes; the attacker seals its
// own layers and sends them over plain connections to the node's port.
#include <catch2/catch.hpp>

#include <memory>
#include <thread>

#include "onion_rig.hpp"
#include "relay.hpp"
#include "support/node_rpc.hpp"
#include "support/raw_socket.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/proto/owner_auth.hpp"

using namespace veil;
using veil::test::Testnet;
namespace tr = sdk::transport;

namespace {

onion::Hop hop_of(const proto::NodeEntry& n) { return {n.ed25519, n.x25519, n.host + ":" + std::to_string(n.port)}; }

// One connection to a relay, sending sealed blobs: every answer is kept.
struct Link {
    Link(uv_loop_t* loop, const proto::NodeEntry& node)
        : client(loop, sdk::net::Endpoint{node.host, node.port}, [] {
              sdk::net::ClientOptions o;
              o.max_frame_bytes = 20 << 20;
              return o;
          }()) {}
    sdk::net::Client client;
};

// Seals `body` for `service` at `to`, through `relays`, and sends it on `link`; `done` gets the
// opened answer (the service's response) or the relay's error.
void send_sealed(Link& link, std::span<const onion::Hop> relays, const onion::Hop& to, std::string_view service,
                 const wire::Bytes& body, std::function<void(sdk::Result<tr::Response>)> done) {
    auto sealed = onion::seal_request(relays, to, service, body, onion::wall_clock_ms());
    link.client.request(tr::encode_service_request(onion::kOnionService, sealed.blob), 70'000,
                        [keys = std::move(sealed.keys), done = std::move(done)](sdk::Result<wire::Bytes> r) {
                            if (!r) return done(r.error());
                            auto outer = tr::decode_service_response(r.value(), 20 << 20);
                            if (!outer) return done(outer.error());
                            if (outer.value().status != tr::Status::ok) {
                                auto& b = outer.value().body;
                                return done(sdk::Error{sdk::ErrorCode::refused, std::string(b.begin(), b.end())});
                            }
                            try {
                                auto inner = onion::open_response(keys, outer.value().body);
                                auto resp = tr::decode_service_response(inner, 20 << 20);
                                if (!resp) return done(resp.error());
                                done(resp.value());
                            } catch (const std::exception& e) {
                                done(sdk::Error{sdk::ErrorCode::bad_input, e.what()});
                            }
                        });
}

// A subscribe of a fresh mailbox that parks for `wait_ms`, as a storage request body.
wire::Bytes subscribe_request(std::uint32_t id, std::uint32_t wait_ms) {
    auto owner = crypto::SigningKeyPair::generate();
    proto::node::SubscribeRequest q;
    q.mailbox = owner.pub;
    q.wait_ms = wait_ms;
    proto::node::RequestBody body = q;
    proto::node::sign_owner_request(body, owner, test::now_ms());
    return proto::node::encode_request({id, body});
}

wire::Bytes info_request(std::uint32_t id) { return proto::node::encode_request({id, proto::node::InfoRequest{}}); }

// True if the node answered `answer` with an ok storage response.
bool storage_ok(const sdk::Result<tr::Response>& answer, proto::node::Method m) {
    if (!answer || answer.value().status != tr::Status::ok) return false;
    try {
        return proto::node::decode_response(m, answer.value().body).status == proto::node::Status::ok;
    } catch (const wire::DecodeError&) {
        return false;
    }
}

}  // namespace

TEST_CASE("onion relay - 300 slow subscribes through one relay, then another client is still served",
          "[onion][integration]") {
    Testnet net(1, 1);
    test::OnionRig rig(net.dir());
    const auto& node = rig.manifest().nodes.at(0);
    auto exit = hop_of(node);
    // 300 subscribes that park for a minute, over 10 connections (30 each, under the port's 64).
    std::vector<std::unique_ptr<Link>> attack;
    std::size_t answered = 0;
    for (int c = 0; c < 10; ++c) {
        attack.push_back(std::make_unique<Link>(rig.loop(), node));
        for (int i = 0; i < 30; ++i) {
            auto owner = crypto::SigningKeyPair::generate();
            proto::node::SubscribeRequest q;
            q.mailbox = owner.pub;
            q.wait_ms = 60'000;
            proto::node::RequestBody body = q;
            proto::node::sign_owner_request(body, owner, test::now_ms());
            send_sealed(*attack.back(), {}, exit, "storage",
                        proto::node::encode_request({static_cast<std::uint32_t>(i + 1), body}),
                        [&](sdk::Result<tr::Response>) { ++answered; });
        }
    }
    // Let them all reach the relay and park.
    uv_timer_t wait{};
    bool waited = false;
    uv_timer_init(rig.loop(), &wait);
    wait.data = &waited;
    uv_timer_start(&wait, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 2000, 0);
    rig.run_until([&] { return waited; });
    uv_close(reinterpret_cast<uv_handle_t*>(&wait), nullptr);
    // Another client, its own connection: an info request through the same relay is served.
    Link victim(rig.loop(), node);
    std::optional<sdk::Result<tr::Response>> got;
    send_sealed(victim, {}, exit, "storage", info_request(7), [&](sdk::Result<tr::Response> r) { got = std::move(r); });
    rig.run_until([&] { return got.has_value(); });
    INFO((got->ok() ? std::string("ok") : got->error().describe()));
    CHECK(storage_ok(*got, proto::node::Method::info));
}

TEST_CASE("onion relay - one source holding its share of long-polls does not stop another source's",
          "[onion][integration]") {
    // Loopback addresses counted as on a real network; a small pool so the test stays small.
    Testnet net(1, 1, {"loopback_per_connection=false", "onion-relay.max_long_polls=32",
                       "onion-relay.max_long_polls_per_source=8"});
    test::OnionRig rig(net.dir());
    const auto& node = rig.manifest().nodes.at(0);
    auto exit = hop_of(node);
    // One source (127.0.41.1), 4 connections x 16 long-polls (the per-link maximum): 64 tries at
    // a pool of 32. Before the per-source share it took the whole pool.
    std::vector<std::unique_ptr<test::RawSocket>> attack;
    for (std::uint32_t c = 0; c < 4; ++c) {
        attack.push_back(std::make_unique<test::RawSocket>("127.0.41.1", node.port));
        REQUIRE(attack.back()->ok());
        for (std::uint32_t i = 0; i < 16; ++i) {
            auto sealed = onion::seal_request({}, exit, "storage", subscribe_request(i + 1, 60'000), onion::wall_clock_ms());
            auto frame = sdk::net::encode_frame(sdk::net::Frame{
                c * 100 + i + 1, sdk::net::FrameStatus::ok, tr::encode_service_request(onion::kOnionService, sealed.blob)});
            REQUIRE(attack.back()->send(frame));
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // Another source (this process, 127.0.0.1): its long-poll parks and is answered, not "busy".
    Link victim(rig.loop(), node);
    std::optional<sdk::Result<tr::Response>> got;
    send_sealed(victim, {}, exit, "storage", subscribe_request(1, 1000), [&](sdk::Result<tr::Response> r) { got = std::move(r); });
    rig.run_until([&] { return got.has_value(); });
    INFO((got->ok() ? std::string("ok") : got->error().describe()));
    CHECK(storage_ok(*got, proto::node::Method::subscribe));
    for (auto& s : attack) CHECK_FALSE(s->closed_by_peer());
}

TEST_CASE("onion relay - a deliver layer naming the onion service is refused (no nested paths)",
          "[onion][integration]") {
    Testnet net(1, 1);
    test::OnionRig rig(net.dir());
    const auto& node = rig.manifest().nodes.at(0);
    auto exit = hop_of(node);
    Link link(rig.loop(), node);
    // A whole onion request as the body of a deliver layer naming "onion".
    auto nested = onion::seal_request({}, exit, "storage", info_request(1), onion::wall_clock_ms());
    std::optional<sdk::Result<tr::Response>> got;
    send_sealed(link, {}, exit, onion::kOnionService, nested.blob, [&](sdk::Result<tr::Response> r) { got = std::move(r); });
    rig.run_until([&] { return got.has_value(); });
    INFO((got->ok() ? "answered, status " + std::to_string(int(got->value().status)) : got->error().describe()));
    REQUIRE_FALSE(got->ok());
    CHECK(got->error().message.find("onion: bad layer") != std::string::npos);
}

TEST_CASE("onion relay - a full replay cache still serves new users", "[onion][integration]") {
    Testnet net(1, 1, {"onion-relay.max_replay_entries=8"});
    test::OnionRig rig(net.dir());
    const auto& node = rig.manifest().nodes.at(0);
    auto exit = hop_of(node);
    Link link(rig.loop(), node);
    std::size_t ok = 0, done = 0;
    for (int i = 0; i < 20; ++i) {
        send_sealed(link, {}, exit, "storage", info_request(static_cast<std::uint32_t>(i + 1)), [&](sdk::Result<tr::Response> r) {
            ok += storage_ok(r, proto::node::Method::info) ? 1 : 0;
            ++done;
        });
        rig.run_until([&] { return done == static_cast<std::size_t>(i + 1); });
    }
    CHECK(ok == 20);
}

TEST_CASE("onion relay - onion-wrapped storage requests are rate limited like direct ones", "[onion][integration]") {
    Testnet net(1, 1, {"requests_per_second=1", "request_burst=5"});
    test::OnionRig rig(net.dir());
    const auto& node = rig.manifest().nodes.at(0);
    auto exit = hop_of(node);
    Link link(rig.loop(), node);
    std::size_t limited = 0, done = 0;
    for (int i = 0; i < 20; ++i) {
        send_sealed(link, {}, exit, "storage", info_request(static_cast<std::uint32_t>(i + 1)), [&](sdk::Result<tr::Response> r) {
            ++done;
            if (r && r.value().status == tr::Status::ok &&
                proto::node::decode_response(proto::node::Method::info, r.value().body).status == proto::node::Status::rate_limited)
                ++limited;
        });
    }
    rig.run_until([&] { return done == 20; });
    CHECK(limited >= 10);
}
