// The node's port under attack (issue 13, items 6 and 7): trickling connections, slot hogging,
// partial large frames. Real node processes; the attacker uses raw sockets from 127.x.y.z
// sources, the victim the ordinary node RPC from 127.0.0.1.
#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <thread>

#include "support/node_rpc.hpp"
#include "support/raw_socket.hpp"
#include "support/testnet_fixture.hpp"

using namespace veil::proto::node;
using namespace std::chrono_literals;
using veil::test::RawSocket;
using veil::test::Testnet;

namespace {

// Loopback sources counted as on a real network (a testnet counts each loopback connection apart).
const std::string kRealSources = "loopback_per_connection=false";

std::string source(int group, int host) { return "127.0." + std::to_string(group) + "." + std::to_string(host); }

std::size_t rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    return 0;
}

bool served(std::uint16_t port) {
    veil::test::NodeRpc rpc;
    auto r = rpc.call(port, InfoRequest{}, 5000);
    return r && r->status == Status::ok;
}

}  // namespace

TEST_CASE("node doors - 1,100 trickling connections neither hold the node nor keep a slot past the frame deadline",
          "[node][integration]") {
    Testnet net(1, 1, {"frame_deadline_ms=2000", "idle_timeout_ms=3000", kRealSources});
    auto port = net.ports()[0];
    REQUIRE(served(port));
    // 1,100 connections from 20 sources in 20 /24s (55 each: under the per-source and per-group
    // caps), each starting a frame and then sending one byte a second.
    std::vector<std::unique_ptr<RawSocket>> attack;
    for (int i = 0; i < 1100; ++i) {
        attack.push_back(std::make_unique<RawSocket>(source(10 + i % 20, 1), port));
        REQUIRE(attack.back()->ok());
        (void)attack.back()->send({0});
    }
    auto header = veil::test::frame_start("storage", 100);
    for (std::size_t byte = 1; byte < 5; ++byte) {
        std::this_thread::sleep_for(900ms);
        for (auto& s : attack) (void)s->send({header[byte]});
    }
    // While the trickle goes on, a client from another source is served.
    CHECK(served(port));
    // And the trickling connections were closed by the deadline of their frame, bytes or not.
    std::size_t closed = 0;
    for (auto& s : attack) closed += s->closed_by_peer(closed == 0 ? 2000 : 0) ? 1 : 0;
    CHECK(closed >= 1000);
}

TEST_CASE("node doors - one source cannot take every connection slot", "[node][integration]") {
    Testnet net(1, 1, {"max_connections=100", "connections_per_source=1000", kRealSources});
    auto port = net.ports()[0];
    // One source holds all 100 slots (idle connections, inside every deadline).
    std::vector<std::unique_ptr<RawSocket>> hog;
    for (int i = 0; i < 120; ++i) hog.push_back(std::make_unique<RawSocket>(source(2, 1), port));
    std::this_thread::sleep_for(300ms);
    // A newcomer from another source still gets a slot: the largest source yields one.
    CHECK(served(port));
}

TEST_CASE("node doors - many addresses of one network cannot fill the node", "[node][integration]") {
    Testnet net(1, 1, {"max_connections=100", "connections_per_group=40", kRealSources});
    auto port = net.ports()[0];
    // 120 addresses of one /24 (as 1,024 /64s of one IPv6 /48), one connection each: only the
    // group's 40 are kept (the old server kept 100 and then refused every newcomer).
    std::vector<std::unique_ptr<RawSocket>> attack;
    for (int i = 0; i < 120; ++i) attack.push_back(std::make_unique<RawSocket>(source(30, 1 + i), port));
    std::this_thread::sleep_for(500ms);
    std::size_t open = 0;
    for (auto& s : attack) open += s->closed_by_peer() ? 0 : 1;
    CHECK(open == 40);
    // A newcomer from another network is served.
    CHECK(served(port));
}

TEST_CASE("node doors - when full, the largest group yields an idle slot even if each address holds one",
          "[node][integration]") {
    Testnet net(1, 1, {"max_connections=100", kRealSources});
    auto port = net.ports()[0];
    // 100 addresses of one /24 fill the node, one connection each (the old rule compared
    // addresses: each holds one, so nobody yielded and the newcomer was refused).
    std::vector<std::unique_ptr<RawSocket>> attack;
    for (int i = 0; i < 100; ++i) attack.push_back(std::make_unique<RawSocket>(source(31, 1 + i), port));
    std::this_thread::sleep_for(300ms);
    CHECK(served(port));
}

namespace {

// Opens a connection from `from` that sends one subscribe of `q` and waits on it.
std::unique_ptr<RawSocket> parked_subscribe(const std::string& from, std::uint16_t port, std::uint32_t id,
                                            const RequestBody& q) {
    auto body = encode_request(Request{id, q});
    auto frame = veil::sdk::net::encode_frame(veil::sdk::net::Frame{
        id, veil::sdk::net::FrameStatus::ok, veil::sdk::transport::encode_service_request(kStorageService, body)});
    auto s = std::make_unique<RawSocket>(from, port);
    REQUIRE(s->send(frame));
    return s;
}

SubscribeRequest subscribe_to(const PublicKey& mailbox, std::uint16_t ns) {
    SubscribeRequest q;
    q.mailbox = mailbox;
    q.ns = ns;
    q.wait_ms = 30'000;
    return q;
}

}  // namespace

TEST_CASE("node doors - a full node never cuts a connection waiting on its owner's long-poll", "[node][integration]") {
    Testnet net(1, 1, {"max_connections=20", "connections_per_source=1000", kRealSources});
    auto port = net.ports()[0];
    // One source fills every slot, each connection waiting on a long-poll its owner signed.
    std::vector<std::unique_ptr<RawSocket>> waiting;
    for (std::uint32_t i = 0; i < 20; ++i) {
        veil::test::MailboxOwner owner;
        waiting.push_back(parked_subscribe(source(32, 1), port, i + 1, owner.sign(subscribe_to(owner.key.pub, 0))));
    }
    std::this_thread::sleep_for(500ms);
    // The newcomer is refused rather than cut someone's pending request.
    CHECK_FALSE(served(port));
    std::size_t cut = 0;
    for (auto& s : waiting) cut += s->closed_by_peer() ? 1 : 0;
    CHECK(cut == 0);
}

TEST_CASE("node doors - unsigned long-polls of four groups do not pin every slot", "[node][integration]") {
    // Four /24s, each at its group cap, each connection holding a parked public subscribe
    // (anyone may send one): the node is full (as 4 x 256 on the default limits).
    Testnet net(1, 1, {"max_connections=20", "connections_per_group=5", "connections_per_source=1000", kRealSources});
    auto port = net.ports()[0];
    std::vector<std::unique_ptr<RawSocket>> waiting;
    for (std::uint32_t i = 0; i < 20; ++i) {
        PublicKey mailbox{};
        mailbox[0] = static_cast<std::uint8_t>(i + 1);
        waiting.push_back(parked_subscribe(source(40 + static_cast<int>(i / 5), 1), port, i + 1,
                                           subscribe_to(mailbox, 0x8000)));
    }
    std::this_thread::sleep_for(500ms);
    // A newcomer from a fifth group is served: one of those connections gives way.
    CHECK(served(port));
    std::size_t cut = 0;
    for (auto& s : waiting) cut += s->closed_by_peer() ? 1 : 0;
    CHECK(cut == 1);
}

TEST_CASE("node doors - owners' signed long-polls of four groups do not pin every slot either",
          "[node][integration]") {
    // As above, but each connection waits on a long-poll signed by the owner of a fresh keypair's
    // own mailbox (keypairs are free): each group keeps only its share of held connections.
    Testnet net(1, 1, {"max_connections=20", "connections_per_group=5", "held_long_polls_per_group=2",
                       "connections_per_source=1000", kRealSources});
    auto port = net.ports()[0];
    std::vector<std::unique_ptr<RawSocket>> waiting;
    for (std::uint32_t i = 0; i < 20; ++i) {
        veil::test::MailboxOwner owner;
        waiting.push_back(parked_subscribe(source(48 + static_cast<int>(i / 5), 1), port, i + 1,
                                           owner.sign(subscribe_to(owner.key.pub, 0))));
    }
    std::this_thread::sleep_for(500ms);
    // A newcomer from a fifth group is served: one connection past its group's share gives way.
    CHECK(served(port));
    std::size_t cut = 0;
    for (auto& s : waiting) cut += s->closed_by_peer() ? 1 : 0;
    CHECK(cut == 1);
}

TEST_CASE("node doors - owners' signed long-polls of many groups, each within its share, do not pin every slot",
          "[node][integration]") {
    // As above with a share large enough to hold every connection of a group (16 IPv6 /48s x 64
    // on the default limits): only the node-wide limit on held long-polls leaves slots to yield.
    Testnet net(1, 1, {"max_connections=20", "connections_per_group=5", "held_long_polls_per_group=5",
                       "held_long_polls=10", "connections_per_source=1000", kRealSources});
    auto port = net.ports()[0];
    std::vector<std::unique_ptr<RawSocket>> waiting;
    for (std::uint32_t i = 0; i < 20; ++i) {
        veil::test::MailboxOwner owner;
        waiting.push_back(parked_subscribe(source(56 + static_cast<int>(i / 5), 1), port, i + 1,
                                           owner.sign(subscribe_to(owner.key.pub, 0))));
    }
    std::this_thread::sleep_for(500ms);
    // A newcomer from a fifth group is served: a connection past the node-wide limit gives way.
    CHECK(served(port));
    std::size_t cut = 0;
    for (auto& s : waiting) cut += s->closed_by_peer() ? 1 : 0;
    CHECK(cut == 1);
}

TEST_CASE("node doors - on a loopback testnet one process's many connections lock nobody out",
          "[node][integration]") {
    Testnet net(1, 1);  // testnet configs count each loopback connection apart
    auto port = net.ports()[0];
    // 80 connections from 127.0.0.1 (say another node's pool): above the per-address cap of 64.
    std::vector<std::unique_ptr<RawSocket>> pool;
    for (int i = 0; i < 80; ++i) pool.push_back(std::make_unique<RawSocket>("127.0.0.1", port));
    std::this_thread::sleep_for(300ms);
    std::size_t open = 0;
    for (auto& s : pool) open += s->closed_by_peer() ? 0 : 1;
    CHECK(open == 80);
    CHECK(served(port));  // another process on 127.0.0.1
}

TEST_CASE("node doors - a large frame is refused where none is expected, before its body", "[node][integration]") {
    Testnet net(1, 1);
    auto port = net.ports()[0];
    RawSocket s(source(3, 1), port);
    REQUIRE(s.ok());
    REQUIRE(s.send(veil::test::frame_start("storage", 2u << 20)));
    CHECK(s.closed_by_peer(3000));
}

TEST_CASE("node memory - 200 connections holding partial large frames stay within the node's budget",
          "[node][integration]") {
    constexpr std::size_t kBudget = 16u << 20;
    Testnet net(1, 1, {"partial_frame_budget=" + std::to_string(kBudget)});
    auto port = net.ports()[0];
    int pid = net.pid_of("node-1");
    REQUIRE(pid > 0);
    REQUIRE(served(port));
    auto before = rss_kib(pid);
    // Each announces a 1000 KiB attachments frame (a kind that may be large) and sends 900 KiB.
    std::vector<std::uint8_t> part(900u << 10, 0x5a);
    std::vector<std::unique_ptr<RawSocket>> attack;
    for (int i = 0; i < 200; ++i) {
        attack.push_back(std::make_unique<RawSocket>(source(4, 1 + i % 4), port));
        REQUIRE(attack.back()->ok());
        (void)attack.back()->send(veil::test::frame_start("attachments", 1000u << 10));
        (void)attack.back()->send(part);
    }
    std::this_thread::sleep_for(1s);
    auto after = rss_kib(pid);
    INFO("RSS before " << before << " KiB, after " << after << " KiB");
    WARN("node RSS grew " << (after - before) << " KiB");
    // Unbounded, this is 200 x 900 KiB (176 MiB) and more (the old server: 106 MB for 100).
    // Bounded: the budget plus slack for what the allocator keeps of freed buffers and libuv's
    // read buffers (RSS growth seen: 23 to 50 MiB in total), still under half the unbounded cost.
    CHECK(after < before + (kBudget >> 10) + (64u << 10));
    CHECK(served(port));
}
