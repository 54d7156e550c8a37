// The onion relay's counters on each node's metrics endpoint (docs/service-node.md §Metrics)
// match what the relays did: requests sealed by hand along a chosen path through real nodes, so
// that every hop's forward, delivery, refusal and failure is known in advance.
#include <catch2/catch.hpp>

#include <map>
#include <regex>

#include "layer.hpp"
#include "onion_rig.hpp"
#include "relay.hpp"
#include "support/node_rpc.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/sdk/metrics.hpp"
#include "veil/sdk/metrics_http.hpp"

using namespace veil;
using veil::test::Testnet;

namespace {

// The relay's samples on one node's endpoint.
struct RelayCounts {
    double forward = 0, deliver = 0, bad = 0, busy = 0, failed = 0, in_flight = 0;
};

// The port a node's endpoint bound (metrics_listen asks port 0), from the line the node logs.
std::uint16_t metrics_port(const Testnet& net, const std::string& node) {
    auto log = test::slurp(net.dir() / node / "veil.log");
    std::smatch m;
    REQUIRE(std::regex_search(log, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics")));
    return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// One scrape with the SDK's own client, on a loop of its own.
RelayCounts scrape_relay(std::uint16_t port) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::optional<sdk::Result<std::string>> text;
    sdk::metrics::scrape(&loop, {"127.0.0.1", port}, 10'000, [&](sdk::Result<std::string> r) { text = std::move(r); });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    REQUIRE(text);
    REQUIRE(text->ok());
    auto readings = sdk::metrics::parse(text->value());
    REQUIRE(readings);
    RelayCounts c;
    std::map<std::pair<std::string, std::string>, double*> slots{
        {{"veil_onion_relayed_total", "forward"}, &c.forward}, {{"veil_onion_relayed_total", "deliver"}, &c.deliver},
        {{"veil_onion_refused_total", "bad"}, &c.bad},         {{"veil_onion_refused_total", "busy"}, &c.busy},
        {{"veil_onion_failed_total", ""}, &c.failed},          {{"veil_onion_in_flight", ""}, &c.in_flight}};
    std::size_t found = 0;
    for (const auto& r : readings.value()) {
        auto it = slots.find({r.name, r.labels.empty() ? "" : r.labels.front().second});
        if (it == slots.end()) continue;
        *it->second = r.value;
        ++found;
    }
    CHECK(found == slots.size());
    return c;
}

onion::Hop hop_of(const proto::NodeEntry& n) { return {n.ed25519, n.x25519, n.host + ":" + std::to_string(n.port)}; }

// The answer to an onion blob sent to `first` (the transport's status and body).
sdk::Result<sdk::transport::Response> send_blob(const proto::NodeEntry& first, const wire::Bytes& blob) {
    test::NodeRpc rpc;
    auto r = rpc.ask(first.port, "onion", blob);
    CHECK(rpc.close() == 0);
    return r;
}

}  // namespace

TEST_CASE("onion - the relay counters on the metrics endpoint match what each hop relayed", "[onion][integration]") {
    Testnet net(3, 1, {"'metrics_listen=\"127.0.0.1:0\"'"});
    test::OnionRig rig(net.dir());
    const auto& m = rig.manifest();
    REQUIRE(m.nodes.size() == 3);
    // Chosen roles: an info request goes guard -> exit -> destination.
    const proto::NodeEntry& guard = m.nodes[0];
    const proto::NodeEntry& exit_node = m.nodes[1];
    const proto::NodeEntry& destination = m.nodes[2];
    std::map<std::string, std::uint16_t> ports;
    for (const auto* n : {&guard, &exit_node, &destination}) ports[net.name_of(n->port)] = metrics_port(net, net.name_of(n->port));
    auto counts = [&](const proto::NodeEntry& n) { return scrape_relay(ports.at(net.name_of(n.port))); };
    const auto guard0 = counts(guard), exit0 = counts(exit_node), dest0 = counts(destination);

    // An info request along the chosen path: what came back, as the client reads it.
    auto info_through_path = [&] {
        const std::vector<onion::Hop> relays{hop_of(guard), hop_of(exit_node)};
        auto body = proto::node::encode_request({1, proto::node::InfoRequest{}});
        auto sealed = onion::seal_request(relays, hop_of(destination), "storage", body, onion::wall_clock_ms());
        auto r = send_blob(guard, sealed.blob);
        REQUIRE(r);
        REQUIRE(r.value().status == sdk::transport::Status::ok);
        return onion::open_answer(sealed.keys, r.value().body);
    };
    constexpr int kSent = 3;
    for (int i = 0; i < kSent; ++i) CHECK_FALSE(info_through_path().failure);
    // A blob no key opens: refused by the guard as bad, passed on to nobody.
    wire::Bytes junk(onion::bucket_size(1000), 0x5a);
    auto refused = send_blob(guard, junk);
    REQUIRE(refused);
    CHECK(refused.value().status == sdk::transport::Status::error);

    auto guard1 = counts(guard), exit1 = counts(exit_node), dest1 = counts(destination);
    CHECK(guard1.forward - guard0.forward == kSent);
    CHECK(guard1.bad - guard0.bad == 1);
    CHECK(exit1.forward - exit0.forward == kSent);
    CHECK(dest1.deliver - dest0.deliver == kSent);
    // Nothing else: no delivery at a relay, no forward from the destination, no failure.
    CHECK(guard1.deliver == guard0.deliver);
    CHECK(exit1.deliver == exit0.deliver);
    CHECK(exit1.bad == exit0.bad);
    CHECK(dest1.forward == dest0.forward);
    for (const auto* c : {&guard1, &exit1, &dest1}) {
        CHECK(c->failed == 0);
        CHECK(c->busy == 0);
        CHECK(c->in_flight == 0);
    }

    // The destination dies (still listed for a while): the exit's forward fails, it says so under
    // its own key, and only the exit counts a failure.
    net.kill9(net.name_of(destination.port));
    auto answer = info_through_path();
    REQUIRE(answer.failure);
    CHECK(answer.from == 1);  // the exit
    auto guard2 = counts(guard), exit2 = counts(exit_node);
    CHECK(guard2.forward - guard1.forward == 1);
    CHECK(exit2.forward - exit1.forward == 1);
    CHECK(guard2.failed == 0);
    CHECK(exit2.failed == 1);
    CHECK(guard2.in_flight == 0);
    CHECK(exit2.in_flight == 0);
}
