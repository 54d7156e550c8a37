// Three directory authorities and nine service nodes, real processes on 127.0.0.1 (issue 15):
// one authority down and the network keeps updating; a lying authority's one-signature manifest
// is refused; two down and the manifest stops advancing, clients keep the last one until it
// expires; every authority restarted and the versions go on, never back.
#include <catch2/catch.hpp>

#include <functional>
#include <regex>

#include "support/node_rpc.hpp"
#include "support/person.hpp"
#include "support/testnet_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using veil::test::slurp;
namespace proto = veil::proto;
namespace fs = std::filesystem;

constexpr std::uint64_t kValidityMs = 8000;

std::optional<proto::SignedManifest> served(veil::test::NodeRpc& rpc, std::uint16_t port) {
    auto r = rpc.call(port, proto::node::GetManifestRequest{});
    if (!r || r->status != proto::node::Status::ok) return std::nullopt;
    return proto::decode_signed_manifest(std::get<proto::node::ManifestResponse>(r->body).envelope);
}

// Polls `done` every 200 ms for up to `seconds`.
bool eventually(const std::function<bool()>& done, int seconds) {
    for (int i = 0; i < seconds * 5; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

// The authority keys and threshold of the testnet's network.toml.
proto::ManifestVerifier verifier_of(const veil::test::Testnet& net) {
    auto text = slurp(net.dir() / "network.toml");
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex("authority_keys = \\[([^\\]]*)\\]")));
    std::vector<proto::PublicKey> keys;
    std::string list = m[1].str();
    std::regex hex("[0-9a-f]{64}");
    for (std::sregex_iterator it(list.begin(), list.end(), hex), end; it != end; ++it)
        keys.push_back(veil::wire::to_array<32>(veil::wire::from_hex(it->str())));
    REQUIRE(keys.size() == 3);
    return proto::ManifestVerifier(keys, 2);
}

// A copy of node-9's config as a new node `name` on `port` (a fresh key is made at its start).
void add_node_config(const veil::test::Testnet& net, const std::string& name, std::uint16_t port) {
    auto text = slurp(net.dir() / "node-9" / "veil.toml");
    text = std::regex_replace(text, std::regex("node-9"), name);
    text = std::regex_replace(text, std::regex("listen = \"127\\.0\\.0\\.1:[0-9]+\""),
                              "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
    fs::create_directories(net.dir() / name);
    std::ofstream(net.dir() / name / "veil.toml") << text;
}

std::uint16_t free_port() {
    for (std::uint16_t p = 29000 + static_cast<std::uint16_t>(::getpid() % 1000);; ++p) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(p);
        bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return p;
    }
}

}  // namespace

TEST_CASE("directory integration - 3 authorities: one down, one lying, two down, all restarted",
          "[node][integration][directory]") {
    veil::test::Testnet net(9, 3, {}, {"validity_ms=" + std::to_string(kValidityMs), "heartbeat_timeout_ms=4000"});
    veil::test::NodeRpc rpc;
    auto verifier = verifier_of(net);
    const auto first = net.ports()[0];
    auto m0 = served(rpc, first);
    REQUIRE(m0);
    CHECK(verifier.check(*m0, veil::test::now_ms()) == proto::ManifestCheck::ok);
    CHECK(m0->manifest.test_network);
    veil::test::Person alice(net, "alice");
    auto status = alice.run({"network", "status"});
    INFO(status.out << status.err);
    REQUIRE(status.exit_code == 0);
    CHECK(status.out.find("9 nodes in 3 swarms") != std::string::npos);
    CHECK(std::regex_search(status.out, std::regex("signed by [23] of 3 authorities \\(2 needed\\)")));
    CHECK(status.out.find("valid for") != std::string::npos);

    // One authority down: a node that dies is dropped, a new one is admitted, clients follow.
    net.kill9("authority-3");
    net.kill9("node-9");
    const auto dead = m0->manifest.nodes.size();  // 9
    REQUIRE(eventually([&] {
        auto m = served(rpc, first);
        return m && m->manifest.nodes.size() == dead - 1;
    }, 20));
    const auto new_port = free_port();
    add_node_config(net, "node-10", new_port);
    net.restart("node-10");
    std::uint64_t with_new = 0;
    REQUIRE(eventually([&] {
        auto m = served(rpc, first);
        bool listed = false;
        for (const auto& n : m ? m->manifest.nodes : std::vector<proto::NodeEntry>{}) listed = listed || n.port == new_port;
        if (listed) with_new = m->manifest.version;
        return listed;
    }, 20));
    auto m1 = served(rpc, first);
    REQUIRE(m1);
    CHECK(verifier.check(*m1, veil::test::now_ms()) == proto::ManifestCheck::ok);
    CHECK(m1->signatures.size() == 2);
    CHECK(eventually([&] {
        auto s = alice.run({"network", "status"});
        return s.exit_code == 0 && s.out.find("9 nodes in") != std::string::npos &&
               s.out.find("signed by 2 of 3") != std::string::npos;
    }, 20));

    // Authority 3 comes back lying: it serves a manifest far ahead, signed by itself alone.
    {
        auto cfg = slurp(net.dir() / "authority-3" / "veil.toml") + "test_misbehave = \"sign_alone\"\n";
        std::ofstream(net.dir() / "authority-3" / "liar.toml") << cfg;
    }
    net.restart("authority-3", "liar.toml");
    std::this_thread::sleep_for(3s);  // nodes poll the three authorities in turn every 300 ms
    auto m2 = served(rpc, first);
    REQUIRE(m2);
    CHECK(m2->manifest.version < with_new + 100);  // the liar's is period + 1000
    CHECK(verifier.check(*m2, veil::test::now_ms()) == proto::ManifestCheck::ok);
    CHECK(slurp(net.dir() / "node-1" / "veil.log").find("manifest refused: manifest not signed by enough") !=
          std::string::npos);

    // Two down (the liar signs honest bodies too: it goes as well): the manifest stops advancing,
    // clients keep working on the last one until it expires, then it is refused.
    net.kill9("authority-2");
    net.kill9("authority-3");
    std::this_thread::sleep_for(2s);
    auto frozen = served(rpc, first);
    REQUIRE(frozen);
    std::this_thread::sleep_for(2s);
    CHECK(served(rpc, first)->manifest.version == frozen->manifest.version);
    auto still = alice.run({"network", "status"});
    INFO(still.out << still.err);
    CHECK(still.exit_code == 0);
    auto stored = alice.run({"network", "store", std::string(64, 'a'), "still working"});
    INFO(stored.out << stored.err);
    CHECK(stored.exit_code == 0);
    const auto expiry = frozen->manifest.valid_until_ms;
    while (veil::test::now_ms() <= expiry + 500) std::this_thread::sleep_for(200ms);
    // Alice's cached manifest and the nodes' are expired now: refused, the command fails.
    auto late = alice.run({"network", "status"}, 30000);
    INFO(late.out << late.err);
    CHECK(late.exit_code != 0);
    CHECK(late.err.find("cached manifest ignored: manifest expired") != std::string::npos);
    // A new client cannot start either: the nodes serve only the expired manifest.
    auto bob = veil::test::run_veil({"init", "--home", (net.dir() / "bob").string(), "--network",
                                     (net.dir() / "network.toml").string()}, {}, 30000);
    CHECK(bob.exit_code != 0);

    // Every authority restarted (honest again): updates continue, the version never goes back.
    net.kill9("authority-1");
    net.restart("authority-1");
    net.restart("authority-2");
    net.restart("authority-3");
    REQUIRE(eventually([&] {
        auto m = served(rpc, first);
        return m && m->manifest.version > frozen->manifest.version &&
               verifier.check(*m, veil::test::now_ms()) == proto::ManifestCheck::ok;
    }, 30));
    CHECK(eventually([&] { return alice.run({"network", "status"}).exit_code == 0; }, 30));
    veil::test::Person carol(net, "carol");
}
