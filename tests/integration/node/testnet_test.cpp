#include <catch2/catch.hpp>

#include <atomic>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "support/node_rpc.hpp"
#include "support/process.hpp"
#include "veil/proto/manifest.hpp"
#include "support/testnet_fixture.hpp"
#include "testnet.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/sdk/net.hpp"
#include "veil/sdk/transport.hpp"

using namespace veil::proto::node;
namespace d = veil::directory;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using veil::test::Testnet;
using veil::test::kVeil;
using veil::test::now_ms;
using veil::test::slurp;

// Node RPCs whose loop must close cleanly at the end of each test.
struct Rpc final : veil::test::NodeRpc {
    ~Rpc() { CHECK(close() == 0); }
};

using Owner = veil::test::MailboxOwner;

// The first node's manifest once complete, verified under the testnet's authority.
d::Manifest manifest_from(Rpc& rpc, const Testnet& net) {
    auto verifier = net.verifier();
    return veil::test::complete_manifest(rpc, net.ports()[0], net.ports().size(), &verifier);
}

std::vector<std::uint16_t> member_ports(const d::Manifest& m, SwarmId swarm) {
    std::vector<std::uint16_t> out;
    for (const auto& n : m.members(swarm)) out.push_back(n.port);
    return out;
}

Hash store(Rpc& rpc, std::uint16_t port, const Owner& o, const std::string& text) {
    std::optional<Response> r;
    for (int attempt = 0; attempt < 50; ++attempt) {  // a node may still be fetching the manifest
        r = rpc.call(port, StoreRequest{o.key.pub, 0, 600'000, Bytes(text.begin(), text.end())});
        if (r && r->status != Status::not_ready && r->status != Status::rate_limited) break;
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE(r);
    INFO(to_string(r->status));
    REQUIRE(r->status == Status::ok);
    return std::get<StoreResponse>(r->body).hash;
}

std::set<Hash> retrieve_all(Rpc& rpc, std::uint16_t port, Owner& o) {
    std::set<Hash> out;
    std::optional<Hash> cursor;
    for (;;) {
        auto r = rpc.call(port, o.sign(RetrieveRequest{o.key.pub, 0, PageQuery{cursor, 100, 1 << 20}, {}}));
        if (!r || r->status != Status::ok) return out;
        const auto& page = std::get<PageResponse>(r->body);
        for (const auto& m : page.messages) out.insert(m.hash);
        if (!page.more || page.messages.empty()) return out;
        cursor = page.messages.back().hash;
    }
}

// Polls until `port` holds every hash in `want` (replication and catch-up are asynchronous).
bool eventually_holds(Rpc& rpc, std::uint16_t port, Owner& o, const std::set<Hash>& want,
                      std::chrono::milliseconds limit = 15s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        auto have = retrieve_all(rpc, port, o);
        if (std::includes(have.begin(), have.end(), want.begin(), want.end())) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

// An owner whose mailbox maps to the swarm of the manifest's first node.
Owner owner_in(const d::Manifest& m, SwarmId swarm) {
    for (;;) {
        Owner o;
        if (m.swarm_for(o.key.pub) == swarm) return o;
    }
}

}  // namespace

// Another program binds a node's port between `up`'s pick and the node's bind (the race seen as
// "cannot listen on 127.0.0.1:21362: address already in use"): `up` picks again, says so, and the
// network comes up.
TEST_CASE("node integration - testnet up picks a fresh port when another program takes a node's", "[node][integration]") {
    const std::string victim = GENERATE("node-2", "authority-2");  // an authority's port is in every config
    veil::test::TempDir tmp;
    const auto dir = tmp.path() / "net";
    std::atomic<bool> done{false};
    std::atomic<int> stolen{0};
    int thief = -1;
    std::thread steal([&] {
        // Binds the victim's port the moment its config names it, before its process starts.
        std::regex listen("listen = \"127\\.0\\.0\\.1:([0-9]+)\"");
        while (!done && stolen == 0) {
            std::smatch m;
            auto text = slurp(dir / victim / "veil.toml");
            if (std::regex_search(text, m, listen)) {
                int port = std::stoi(m[1]);
                thief = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_in a{};
                a.sin_family = AF_INET;
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                a.sin_port = htons(static_cast<std::uint16_t>(port));
                if (::bind(thief, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(thief, 1) == 0) stolen = port;
                else stolen = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    auto up = veil::test::run_veil({"testnet", "up", "--nodes", "3", "--swarm-size", "3", "--dir", dir.string()}, {}, 90'000);
    done = true;
    steal.join();
    auto down = veil::test::run_veil({"testnet", "down", "--dir", dir.string()});
    if (thief >= 0) ::close(thief);
    INFO(up.out << up.err << slurp(dir / victim / "veil.log"));
    REQUIRE(stolen > 0);  // the thief held the port before the victim bound it
    CHECK(up.exit_code == 0);
    CHECK(up.out.find(victim + " could not listen on 127.0.0.1:" + std::to_string(stolen.load())) != std::string::npos);
    CHECK(slurp(dir / victim / "veil.toml").find(":" + std::to_string(stolen.load()) + "\"") == std::string::npos);
    CHECK(down.exit_code == 0);
}

TEST_CASE("node integration - 9-node testnet: store on one member, retrieve from another; redirects",
          "[node][integration]") {
    Testnet net(9, 3);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    CHECK(m.swarm_ids().size() == 3);
    SwarmId swarm = m.nodes[0].swarm;
    auto members = member_ports(m, swarm);
    REQUIRE(members.size() == 3);
    Owner o = owner_in(m, swarm);

    std::set<Hash> sent;
    for (int i = 0; i < 5; ++i) sent.insert(store(rpc, members[0], o, "hello " + std::to_string(i)));
    CHECK(eventually_holds(rpc, members[1], o, sent));
    CHECK(eventually_holds(rpc, members[2], o, sent));

    // A node of another swarm answers with a redirect naming the right swarm.
    std::uint16_t outsider = 0;
    for (const auto& n : m.nodes)
        if (n.swarm != swarm) outsider = n.port;
    auto r = rpc.call(outsider, StoreRequest{o.key.pub, 0, 600'000, {1}});
    REQUIRE(r);
    REQUIRE(r->status == Status::wrong_swarm);
    CHECK(std::get<SwarmResponse>(r->body).swarm == swarm);
    CHECK(std::get<SwarmResponse>(r->body).members.size() == 3);

    // A subscribe parked on one member answers when a store lands (through replication). The
    // store waits until that member holds the subscribe parked (its info says so): a subscribe
    // arriving late would find the message already there and prove nothing.
    auto sub_owner = owner_in(m, swarm);
    std::atomic<bool> saw_parked = false;
    std::thread storer([&] {
        Rpc other;
        for (int i = 0; i < 500 && !saw_parked; ++i) {
            auto info = other.call(members[1], InfoRequest{});
            saw_parked = info && std::get<InfoResponse>(info->body).parked_subscribes > 0;
            if (!saw_parked) std::this_thread::sleep_for(20ms);
        }
        store(other, members[0], sub_owner, "wake up");
    });
    auto sub = rpc.call(members[1], sub_owner.sign(SubscribeRequest{sub_owner.key.pub, 0, {}, 10'000, {}}), 15'000);
    storer.join();
    CHECK(saw_parked);
    REQUIRE(sub);
    REQUIRE(sub->status == Status::ok);
    CHECK(std::get<PageResponse>(sub->body).messages.size() == 1);

    // Delete by the owner is replicated too.
    auto del = rpc.call(members[0], o.sign(DeleteRequest{o.key.pub, 0, {*sent.begin()}, {}}));
    REQUIRE(del);
    CHECK(del->status == Status::ok);
    auto until = std::chrono::steady_clock::now() + 10s;
    while (retrieve_all(rpc, members[2], o).count(*sent.begin()) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(100ms);
    CHECK(retrieve_all(rpc, members[2], o).count(*sent.begin()) == 0);
}

TEST_CASE("node integration - a member killed with -9 keeps its acknowledged data and catches up",
          "[node][integration]") {
    Testnet net(3, 3);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    SwarmId swarm = m.nodes[0].swarm;
    auto members = member_ports(m, swarm);
    REQUIRE(members.size() == 3);
    Owner o = owner_in(m, swarm);

    std::set<Hash> before;
    for (int i = 0; i < 10; ++i) before.insert(store(rpc, members[2], o, "before " + std::to_string(i)));
    REQUIRE(eventually_holds(rpc, members[2], o, before));
    net.kill9(net.name_of(members[2]));

    std::set<Hash> during;
    for (int i = 0; i < 20; ++i) during.insert(store(rpc, members[0], o, "during " + std::to_string(i)));
    net.restart(net.name_of(members[2]));
    std::set<Hash> all = before;
    all.insert(during.begin(), during.end());
    CHECK(eventually_holds(rpc, members[2], o, all, 20s));
}

TEST_CASE("node integration - a bucket larger than one catch-up page reaches a restarted member",
          "[node][integration]") {
    // Pages of 8 states: bucket 0 below takes five of them.
    Testnet net(3, 3, {"bucket_page_states=8"});
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    SwarmId swarm = m.nodes[0].swarm;
    auto members = member_ports(m, swarm);
    REQUIRE(members.size() == 3);
    Owner o = owner_in(m, swarm);
    REQUIRE(eventually_holds(rpc, members[2], o, {}));
    net.kill9(net.name_of(members[2]));

    std::set<Hash> stored;
    int ground = 0;
    for (int i = 0; ground < 40; ++i) {
        auto text = "ground " + std::to_string(i);
        if (message_hash(o.key.pub, 0, Bytes(text.begin(), text.end()))[0] != 0) continue;  // bucket 0 only
        stored.insert(store(rpc, members[0], o, text));
        ++ground;
    }
    for (int i = 0; i < 20; ++i) stored.insert(store(rpc, members[0], o, "spread " + std::to_string(i)));
    net.restart(net.name_of(members[2]));
    CHECK(eventually_holds(rpc, members[2], o, stored, 30s));
}

TEST_CASE("node integration - a whole swarm but one member stops and nothing is lost", "[node][integration]") {
    Testnet net(3, 3);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    SwarmId swarm = m.nodes[0].swarm;
    auto members = member_ports(m, swarm);
    Owner o = owner_in(m, swarm);

    std::set<Hash> sent;
    for (int i = 0; i < 15; ++i) sent.insert(store(rpc, members[i % 3], o, "message " + std::to_string(i)));
    REQUIRE(eventually_holds(rpc, members[0], o, sent));
    net.kill9(net.name_of(members[1]));
    net.kill9(net.name_of(members[2]));
    CHECK(retrieve_all(rpc, members[0], o) == sent);
    // The survivor takes more while alone, then is killed too: its disk keeps every ack.
    for (int i = 0; i < 5; ++i) sent.insert(store(rpc, members[0], o, "alone " + std::to_string(i)));
    net.kill9(net.name_of(members[0]));
    net.restart(net.name_of(members[0]));
    CHECK(eventually_holds(rpc, members[0], o, sent, 20s));
    // The others come back and catch up from it.
    net.restart(net.name_of(members[1]));
    CHECK(eventually_holds(rpc, members[1], o, sent, 20s));
}

TEST_CASE("node integration - the node's database and logs hold no client address", "[node][integration]") {
    Testnet net(3, 3);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    Owner o = owner_in(m, m.nodes[0].swarm);
    std::uint16_t port = m.nodes[0].port;
    store(rpc, port, o, "warm up");  // the node has its manifest

    // A client on its own loopback address, 127.0.0.77, stores and retrieves over a raw socket.
    auto exchange = [&](RequestBody body) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.77", &me.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) == 0);
        sockaddr_in node{};
        node.sin_family = AF_INET;
        node.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &node.sin_addr);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&node), sizeof node) == 0);
        auto request = veil::sdk::transport::encode_service_request(kStorageService, encode_request(Request{1, body}));
        auto frame = veil::sdk::net::encode_frame({1, veil::sdk::net::FrameStatus::ok, request});
        REQUIRE(::write(fd, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
        std::uint8_t buf[4096];
        REQUIRE(::read(fd, buf, sizeof buf) > 0);
        ::close(fd);
    };
    exchange(StoreRequest{o.key.pub, 0, 600'000, {'x'}});
    exchange(o.sign(RetrieveRequest{o.key.pub, 0, {}, {}}));
    exchange(StoreRequest{o.key.pub, 0, 1, {'y'}});  // refused: bad TTL (an error path)
    std::this_thread::sleep_for(500ms);

    const std::string text = "127.0.0.77";
    const std::string binary("\x7f\x00\x00\x4d", 4);
    for (const auto& entry : fs::recursive_directory_iterator(net.dir())) {
        if (!entry.is_regular_file()) continue;
        auto bytes = slurp(entry.path());
        INFO(entry.path());
        CHECK(bytes.find(text) == std::string::npos);
        CHECK(bytes.find(binary) == std::string::npos);
    }
    // And the decrypted database: every value of every row.
    auto node_dir = net.dir() / net.name_of(port) / "service-node";
    auto raw_key = slurp(node_dir / "db.key");
    auto key = veil::wire::to_hex(veil::wire::Bytes(raw_key.begin(), raw_key.end()));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((node_dir / "messages.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, ("PRAGMA key = \"x'" + key + "'\"").c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    int rows = 0;
    // messages: id, hash, mailbox, namespace, expiry_ms, data, store_auth, proof_hash, owner_ms, held_ms;
    // proofs: hash, mailbox, namespace, body.
    for (auto [table, columns] : {std::pair{"messages", 10}, std::pair{"proofs", 4}}) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, (std::string("SELECT * FROM ") + table).c_str(), -1, &st, nullptr) == SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows += table == std::string("messages");
            REQUIRE(sqlite3_column_count(st) == columns);
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                std::string v(static_cast<const char*>(sqlite3_column_blob(st, c)) ? static_cast<const char*>(sqlite3_column_blob(st, c)) : "",
                              static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
                CHECK(v.find(text) == std::string::npos);
                CHECK(v.find(binary) == std::string::npos);
            }
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    CHECK(rows >= 2);
}

TEST_CASE("node integration - the rate limit is per connection", "[node][integration]") {
    Testnet net(1, 1);
    Rpc busy;
    std::uint16_t port = net.ports()[0];
    int ok = 0;
    int limited = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 400; ++i) {  // defaults: 50 a second, bursts of 200
        auto r = busy.call(port, InfoRequest{});
        REQUIRE(r);
        (r->status == Status::ok ? ok : limited) += 1;
        if (r->status == Status::rate_limited) CHECK(std::get<ErrorResponse>(r->body).message == "rate limited");
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The bucket allows the burst plus what refilled meanwhile, and no more.
    CHECK(ok >= 200);
    CHECK(ok <= 200 + static_cast<int>(50 * seconds) + 2);
    CHECK(limited == 400 - ok);
    Rpc other;  // a new connection has its own bucket
    auto r = other.call(port, InfoRequest{});
    REQUIRE(r);
    CHECK(r->status == Status::ok);
}

TEST_CASE("node integration - requests carried by a transport reach the same handlers", "[node][integration]") {
    Testnet net(1, 1);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    // Run node-1 again with the direct transport beside it: transport::Inbound, route "storage".
    auto cfg = slurp(net.dir() / "node-1" / "veil.toml");
    auto at = cfg.find("plugins = [\"service-node\"");
    REQUIRE(at != std::string::npos);
    cfg.replace(at, std::string("plugins = [\"service-node\"").size(), "plugins = [\"service-node\", \"direct\"");
    auto direct_port = d::free_loopback_port();
    cfg += "\n[direct]\nlisten = \"127.0.0.1:" + std::to_string(direct_port) + "\"\n";
    std::ofstream(net.dir() / "node-1" / "veil-direct.toml") << cfg;
    net.kill9("node-1");
    net.restart("node-1", "veil-direct.toml");

    Owner o = owner_in(m, m.nodes[0].swarm);
    auto via_transport = [&](RequestBody body) -> std::optional<Response> {
        Method method = method_of(body);
        auto wrapped = veil::sdk::transport::encode_service_request("storage", encode_request(Request{7, body}));
        // The direct transport's listener speaks service requests in net frames.
        struct Raw {
            Raw() { uv_loop_init(&loop); }
            ~Raw() {
                client.reset();
                uv_run(&loop, UV_RUN_DEFAULT);
                uv_loop_close(&loop);
            }
            uv_loop_t loop{};
            std::unique_ptr<veil::sdk::net::Client> client;
        } raw;
        raw.client = std::make_unique<veil::sdk::net::Client>(&raw.loop, veil::sdk::net::Endpoint{"127.0.0.1", direct_port});
        std::optional<veil::sdk::Result<Bytes>> got;
        raw.client->request(wrapped, 5000, [&got](veil::sdk::Result<Bytes> r) { got = std::move(r); });
        while (!got) uv_run(&raw.loop, UV_RUN_ONCE);
        if (!got->ok()) return std::nullopt;
        auto sr = veil::sdk::transport::decode_service_response(got->value(), 1 << 20);
        if (!sr || sr.value().status != veil::sdk::transport::Status::ok) return std::nullopt;
        return decode_response(method, sr.value().body);
    };
    std::optional<Response> info;
    for (int i = 0; i < 100 && !(info && std::get<InfoResponse>(info->body).manifest_version > 0); ++i) {
        std::this_thread::sleep_for(100ms);
        info = via_transport(InfoRequest{});
    }
    REQUIRE(info);
    CHECK(std::get<InfoResponse>(info->body).node_key == m.nodes[0].ed25519);
    auto stored = via_transport(StoreRequest{o.key.pub, 0, 600'000, {'v', 'i', 'a'}});
    REQUIRE(stored);
    REQUIRE(stored->status == Status::ok);
    auto got = via_transport(o.sign(RetrieveRequest{o.key.pub, 0, {}, {}}));
    REQUIRE(got);
    REQUIRE(got->status == Status::ok);
    REQUIRE(std::get<PageResponse>(got->body).messages.size() == 1);
    CHECK(std::get<PageResponse>(got->body).messages[0].data == Bytes{'v', 'i', 'a'});
}

TEST_CASE("node integration - soak: many mailboxes, rolling kill -9 and restarts, nothing lost",
          "[node][integration][slow]") {
    Testnet net(9, 3);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    std::vector<Owner> owners;
    for (std::size_t i = 0; i < 30; ++i) owners.push_back(owner_in(m, m.swarm_ids()[i % m.swarm_ids().size()]));
    std::vector<std::set<Hash>> sent(owners.size());
    for (std::size_t round = 0; round < 3; ++round) {
        const auto& victim = m.nodes[(round * 4) % m.nodes.size()];
        net.kill9(net.name_of(victim.port));
        for (std::size_t i = 0; i < owners.size(); ++i) {
            auto members = member_ports(m, m.swarm_for(owners[i].key.pub));
            std::erase(members, victim.port);
            for (std::size_t k = 0; k < 10; ++k)
                sent[i].insert(store(rpc, members[k % members.size()], owners[i],
                                     "r" + std::to_string(round) + " m" + std::to_string(k)));
        }
        net.restart(net.name_of(victim.port));
    }
    for (std::size_t i = 0; i < owners.size(); ++i)
        for (auto port : member_ports(m, m.swarm_for(owners[i].key.pub)))
            CHECK(eventually_holds(rpc, port, owners[i], sent[i], 30s));
}

TEST_CASE("node integration - the sweeper deletes expired messages from disk", "[node][integration][slow]") {
    Testnet net(1, 1);
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    Owner o = owner_in(m, m.nodes[0].swarm);
    auto r = rpc.call(net.ports()[0], StoreRequest{o.key.pub, 0, 10'000, {'s', 'h', 'o', 'r', 't'}});
    REQUIRE(r);
    REQUIRE(r->status == Status::ok);
    auto node_dir = net.dir() / "node-1" / "service-node";
    auto raw_key = slurp(node_dir / "db.key");
    auto key = veil::wire::to_hex(veil::wire::Bytes(raw_key.begin(), raw_key.end()));
    auto rows = [&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2((node_dir / "messages.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, ("PRAGMA key = \"x'" + key + "'\"").c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM messages", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        int n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
    };
    CHECK(rows() == 1);
    // TTL 10 s, sweeper every 5 s in a testnet: gone from the file within ~15 s.
    auto until = std::chrono::steady_clock::now() + 30s;
    while (rows() != 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(500ms);
    CHECK(rows() == 0);
    CHECK(retrieve_all(rpc, net.ports()[0], o).empty());
}

TEST_CASE("node integration - a member paging forever in catch-up is dropped and the next member's data arrives",
          "[node][integration]") {
    // Each peer's catch-up turn lasts at most 2 s.
    Testnet net(3, 3, {"catch_up_peer_ms=2000"});
    Rpc rpc;
    auto m = manifest_from(rpc, net);
    SwarmId swarm = m.nodes[0].swarm;
    auto members = member_ports(m, swarm);
    REQUIRE(members.size() == 3);
    Owner o = owner_in(m, swarm);
    // The first member (the first peer members[2] asks) claims 2^32 - 1 states in every bucket
    // and pages through made-up hashes forever.
    net.kill9(net.name_of(members[0]));
    {
        auto dir = net.dir() / net.name_of(members[0]);
        std::ifstream in(dir / "veil.toml");
        std::ofstream out(dir / "hostile.toml");
        std::string line;
        while (std::getline(in, line)) {
            out << line << "\n";
            if (line == "[service-node]") out << "test_misbehave = \"endless_pages\"\n";
        }
    }
    net.restart(net.name_of(members[0]), "hostile.toml");
    // members[2] misses these (down), then catches up: its turn with members[0] runs out and
    // members[1]'s follows.
    net.kill9(net.name_of(members[2]));
    std::set<Hash> during;
    for (int i = 0; i < 10; ++i) during.insert(store(rpc, members[1], o, "during " + std::to_string(i)));
    net.restart(net.name_of(members[2]));
    CHECK(eventually_holds(rpc, members[2], o, during, 30s));
}
