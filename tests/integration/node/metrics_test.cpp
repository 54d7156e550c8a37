// The node's metrics endpoint (docs/service-node.md §Metrics) on a real node process: a scrape
// counts exactly what the node was asked, `veil node status` prints it, nothing in it names a
// client, and hostile scrapers (a huge head, slowloris, other methods) cannot hurt the node.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "node_call.hpp"
#include "support/raw_socket.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/sdk/metrics.hpp"
#include "veil/wire/codec.hpp"

using namespace veil::proto::node;
using namespace std::chrono_literals;
using veil::test::RawSocket;
using veil::test::Testnet;

namespace {

using Rpc = veil::test::CheckedRpc;
using veil::test::call_ready;
using Owner = veil::test::MailboxOwner;

// A loopback port free now (the node binds it moments later).
std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string metrics_option(std::uint16_t port) {
    // Quoted for the shell that runs `veil testnet up`, then for TOML.
    return "'metrics_listen=\"127.0.0.1:" + std::to_string(port) + "\"'";
}

// Sends `request` on a fresh connection and reads until the server closes (10 s at most).
std::string http_exchange(std::uint16_t port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return {};
    }
    std::size_t at = 0;
    while (at < request.size()) {
        auto n = ::send(fd, request.data() + at, request.size() - at, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may answer and close before reading everything
        at += static_cast<std::size_t>(n);
    }
    std::string in;
    char buf[16384];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10'000) > 0) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return in;
}

std::string scrape_text(std::uint16_t port) {
    auto answer = http_exchange(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    REQUIRE(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    return answer.substr(answer.find("\r\n\r\n") + 4);
}

using Readings = std::vector<veil::sdk::metrics::Reading>;

Readings scrape(std::uint16_t port) {
    auto parsed = veil::sdk::metrics::parse(scrape_text(port));
    REQUIRE(parsed);
    return parsed.value();
}

double value(const Readings& rs, const std::string& name, const std::string& label = {}, const std::string& v = {}) {
    for (const auto& r : rs) {
        if (r.name != name) continue;
        if (label.empty() || (!r.labels.empty() && r.labels.front() == std::make_pair(label, v))) return r.value;
    }
    FAIL("no sample " << name << " " << label << "=" << v);
    return 0;
}

std::string run(const std::string& command) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command.c_str(), "r"), ::pclose);
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    return out;
}

}  // namespace

TEST_CASE("node metrics - a scrape counts the stores, retrieves and refusals the node answered", "[node][integration]") {
    auto mport = free_port();
    Testnet net(1, 1, {metrics_option(mport), "max_data_bytes=1000"});
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    REQUIRE(call_ready(rpc, port, InfoRequest{}).status == Status::ok);

    auto before = scrape(mport);
    for (std::uint8_t i = 0; i < 5; ++i) {
        auto r = rpc.call(port, StoreRequest{bob.key.pub, kEnvelopeNamespace, 600'000, Bytes(100, i)});
        REQUIRE(r);
        CHECK(r->status == Status::ok);
    }
    for (int i = 0; i < 3; ++i) {
        auto r = rpc.call(port, bob.sign(RetrieveRequest{bob.key.pub, kEnvelopeNamespace, PageQuery{}, {}}));
        REQUIRE(r);
        CHECK(r->status == Status::ok);
    }
    for (int i = 0; i < 2; ++i) {
        auto r = rpc.call(port, StoreRequest{bob.key.pub, kEnvelopeNamespace, 600'000, Bytes(1001, 7)});
        REQUIRE(r);
        CHECK(r->status == Status::too_large);
    }
    auto short_ttl = rpc.call(port, StoreRequest{bob.key.pub, kEnvelopeNamespace, 1, Bytes(10, 1)});
    REQUIRE(short_ttl);
    CHECK(short_ttl->status == Status::bad_ttl);

    auto text = scrape_text(mport);
    auto after = veil::sdk::metrics::parse(text);
    REQUIRE(after);
    auto delta = [&](const std::string& name, const std::string& label, const std::string& v) {
        return value(after.value(), name, label, v) - value(before, name, label, v);
    };
    CHECK(delta("veil_node_served_total", "method", "store") == 5);
    CHECK(delta("veil_node_served_total", "method", "retrieve") == 3);
    CHECK(delta("veil_node_refused_total", "reason", "too_large") == 2);
    CHECK(delta("veil_node_refused_total", "reason", "bad_ttl") == 1);
    CHECK(delta("veil_node_refused_total", "reason", "rate_limited") == 0);
    CHECK(value(after.value(), "veil_node_in_flight_requests") == 0);
    CHECK(value(after.value(), "veil_node_stored_rows") == 5);
    CHECK(value(after.value(), "veil_node_database_file_bytes") > 0);
    CHECK(value(after.value(), "veil_node_stored_bytes") > 0);
    CHECK(value(after.value(), "veil_node_manifest_version") >= 1);
    CHECK(value(after.value(), "veil_onion_relayed_total", "kind", "forward") == 0);
    // Nothing about a client: no mailbox key, no address.
    CHECK(text.find(veil::wire::to_hex(bob.key.pub)) == std::string::npos);
    CHECK(text.find("127.0.0.1") == std::string::npos);

    // The operator's view, from the node's own config, while the node runs.
    auto config = (net.dir() / "node-1" / "veil.toml").string();
    auto status = run(veil::test::kVeil + " --config " + config + " node status 2>&1");
    INFO(status);
    CHECK(status.find("served          ") != std::string::npos);
    CHECK(status.find("store 5") != std::string::npos);
    CHECK(status.find("retrieve 3") != std::string::npos);
    CHECK(status.find("too_large 2") != std::string::npos);
    CHECK(status.find("5 rows") != std::string::npos);
    auto json = run(veil::test::kVeil + " --config " + config + " node status --json 2>&1");
    CHECK(json.find(R"({"name":"veil_node_served_total","labels":{"method":"store"},"value":5})") != std::string::npos);
    // The node is still serving after the status command ran beside it.
    CHECK(rpc.call(port, InfoRequest{})->status == Status::ok);
}

TEST_CASE("node metrics - off by default; node status says how to turn it on", "[node][integration]") {
    Testnet net(1, 1);
    auto config = (net.dir() / "node-1" / "veil.toml").string();
    auto status = run(veil::test::kVeil + " --config " + config + " node status 2>&1; echo exit=$?");
    CHECK(status.find("metrics_listen") != std::string::npos);
    CHECK(status.find("exit=1") != std::string::npos);
}

TEST_CASE("node metrics - hostile scrapers: a huge head, slowloris and other methods cannot hurt the node",
          "[node][integration]") {
    auto mport = free_port();
    Testnet net(1, 1, {metrics_option(mport)});
    auto port = net.ports()[0];
    Rpc rpc;
    REQUIRE(call_ready(rpc, port, InfoRequest{}).status == Status::ok);

    // First, while the endpoint holds no connection at all: 8 slow scrapers take every slot,
    // and more are closed at accept. (This ran after the exchanges below until session 10 and
    // failed twice: an answered exchange stays open while the endpoint drains what its scraper
    // still sends, up to 8 MiB after the 431, so it could take one of the 8 slots while the
    // first slow sockets were accepted; a later socket then got the slot it freed.)
    const auto started = std::chrono::steady_clock::now();
    auto left_ms = [&](std::chrono::milliseconds total) {
        auto left = total - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
    };
    const std::string line = "GET /metrics HTTP/1.1\r\n";  // a head that never ends
    const std::vector<std::uint8_t> head_start(line.begin(), line.end());
    std::vector<std::unique_ptr<RawSocket>> held;
    for (int i = 0; i < 20; ++i) {
        held.push_back(std::make_unique<RawSocket>("127.0.0.1", mport));
        REQUIRE(held.back()->ok());
        (void)held.back()->send(head_start);
    }
    // Accepted in the order they connected: the first 8 are kept, the other 12 closed at once,
    // long before the 5 s deadline of the kept ones.
    for (std::size_t i = 8; i < held.size(); ++i) CHECK(held[i]->closed_by_peer(left_ms(4000ms)));
    for (std::size_t i = 0; i < 8; ++i) CHECK_FALSE(held[i]->closed_by_peer(0));
    // A scrape now finds no free slot: closed without an answer.
    CHECK(http_exchange(mport, "GET /metrics HTTP/1.1\r\n\r\n").empty());
    // The deadline frees the slots: each slow scraper is closed 5 s after accept (without the
    // deadline it would hold its slot for ever), and a scrape is served again.
    for (std::size_t i = 0; i < 8; ++i) CHECK(held[i]->closed_by_peer(left_ms(15'000ms)));
    CHECK(value(scrape(mport), "veil_node_in_flight_requests") == 0);
    held.clear();

    // Anything but GET /metrics is refused and closed.
    CHECK(http_exchange(mport, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
    CHECK(http_exchange(mport, "GET /debug HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0) == 0);
    CHECK(http_exchange(mport, "\x16\x03\x01 garbage\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
    // A head that never ends: refused at 4 KiB, whatever follows (8 MiB offered).
    CHECK(http_exchange(mport, "GET /metrics HTTP/1.1\r\nX-Junk: " + std::string(8 << 20, 'a')).rfind("HTTP/1.1 431", 0) == 0);

    // Slowloris: more connections than the endpoint takes, each trickling a head that never ends.
    std::vector<std::unique_ptr<RawSocket>> slow;
    for (int i = 0; i < 20; ++i) {
        slow.push_back(std::make_unique<RawSocket>("127.0.0.1", mport));
        REQUIRE(slow.back()->ok());
        (void)slow.back()->send({'G'});
    }
    for (int second = 0; second < 3; ++second) {
        std::this_thread::sleep_for(1s);
        for (auto& s : slow) (void)s->send({'E'});
        // The node's own port is served meanwhile.
        CHECK(rpc.call(port, InfoRequest{})->status == Status::ok);
    }
    // Every trickler is closed by the endpoint (past max_connections at once, the rest at the
    // 5 s deadline): none holds it, and a scrape is served after.
    for (auto& s : slow) CHECK(s->closed_by_peer(10'000));
    auto rs = scrape(mport);
    CHECK(value(rs, "veil_node_in_flight_requests") == 0);
    CHECK(rpc.call(port, InfoRequest{})->status == Status::ok);
}
