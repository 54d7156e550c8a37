// A lying authority that floods the others with votes, among three, real processes on 127.0.0.1
// (issue 15 review, HIGH: vote delivery). authority-3 (test_misbehave = "flood") sends each
// honest authority 100 different votes a period, for the period and the next, each as large as
// a vote may be (Authority::max_vote_bytes: ~390 made-up nodes, ~29 kB here), back to back. Every node registers with all three, so a node
// is listed only when both honest votes count: an honest vote delayed past its round by the
// flood would leave the nodes out, or leave the authority without a signature that period.
#include <catch2/catch.hpp>

#include <map>

#include "authority_rpc.hpp"

namespace {
using namespace std::chrono_literals;
namespace proto = veil::proto;
}  // namespace

TEST_CASE("directory integration - a liar flooding votes delays no honest vote past its round",
          "[node][integration][directory]") {
    veil::test::Testnet net(6, 3, {}, {"validity_ms=8000", "tick_ms=50"});
    veil::test::NodeRpc rpc;
    auto verifier = net.verifier();
    const auto a1 = veil::test::listen_port(net.dir() / "authority-1" / "veil.toml");
    const auto a2 = veil::test::listen_port(net.dir() / "authority-2" / "veil.toml");
    veil::test::restart_as_liar(net, "flood");
    std::this_thread::sleep_for(2s);  // the liar's warm-up: it floods from its first vote on

    // For 10 s (10 periods): what each honest authority serves, by version.
    std::map<std::uint16_t, std::map<std::uint64_t, std::size_t>> listed;  // port -> version -> nodes
    const auto end = veil::test::now_ms() + 10'000;
    while (veil::test::now_ms() < end) {
        for (auto port : {a1, a2}) {
            auto m = veil::test::manifest_at(rpc, port);
            if (!m) continue;
            CHECK(verifier.check(*m, veil::test::now_ms()) == proto::ManifestCheck::ok);
            listed[port][m->manifest.version] = m->manifest.nodes.size();
        }
        std::this_thread::sleep_for(50ms);
    }
    for (auto port : {a1, a2}) {
        INFO("authority on port " << port);
        auto& versions = listed[port];
        REQUIRE(versions.size() >= 2);
        // A version every period (none skipped for want of a counted honest vote), all 6 nodes in each.
        CHECK(versions.rbegin()->first - versions.begin()->first + 1 == versions.size());
        CHECK(versions.size() >= 8);
        for (const auto& [version, nodes] : versions) {
            INFO("version " << version);
            CHECK(nodes == 6);
        }
    }
    // The flood did reach them: each caught the liar equivocating.
    CHECK(veil::test::slurp(net.dir() / "authority-1" / "veil.log").find("two different votes") != std::string::npos);
}
