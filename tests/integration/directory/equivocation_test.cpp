// An equivocating authority among three, real processes on 127.0.0.1 (issue 15 review, HIGH):
// authority-3 sends authority-1 a vote listing every node it sees and authority-2 an empty one,
// then signs the consensus each side would form from its lie. A node registers with authority-1
// and authority-3 only, so that lie alone decides whether it is in. The honest two relay the votes
// they hold, both see the two votes, leave authority-3's out, and sign one body per version.
// And a client configured with a threshold below a majority of its keys is refused at start.
#include <catch2/catch.hpp>

#include <map>
#include <regex>

#include "authority_rpc.hpp"
#include "support/testnet_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using veil::test::slurp;
namespace proto = veil::proto;
namespace fs = std::filesystem;

using veil::test::listen_port;
using veil::test::manifest_at;

}  // namespace

TEST_CASE("directory integration - an equivocating authority: the honest two sign one body per version",
          "[node][integration][directory]") {
    veil::test::Testnet net(6, 3, {}, {"validity_ms=8000"});
    veil::test::NodeRpc rpc;
    auto verifier = net.verifier();
    REQUIRE(verifier.threshold() == 2);
    const auto a1 = listen_port(net.dir() / "authority-1" / "veil.toml");
    const auto a2 = listen_port(net.dir() / "authority-2" / "veil.toml");

    // Authority-3 restarts as the liar; node x registers with authority-1 and the liar only.
    veil::test::restart_as_liar(net, "equivocate");
    const auto x_port = veil::test::start_node_skipping(net, a2);

    // For 12 s (12 periods), what the two honest authorities serve for each version.
    std::map<std::uint64_t, proto::Digest> at1, at2;
    std::size_t listing_x = 0;
    const auto end = veil::test::now_ms() + 12'000;
    while (veil::test::now_ms() < end) {
        for (auto [port, seen] : {std::pair{a1, &at1}, std::pair{a2, &at2}}) {
            auto m = manifest_at(rpc, port);
            if (!m) continue;
            INFO("authority on port " << port << ", version " << m->manifest.version);
            CHECK(verifier.check(*m, veil::test::now_ms()) == proto::ManifestCheck::ok);
            (*seen)[m->manifest.version] = proto::digest_of(m->body);
            for (const auto& n : m->manifest.nodes) listing_x += n.port == x_port;
        }
        std::this_thread::sleep_for(100ms);
    }
    // The network kept issuing manifests, and for every version both served, the same body.
    std::size_t common = 0;
    for (const auto& [version, body] : at1) {
        if (!at2.contains(version)) continue;
        ++common;
        INFO("version " << version);
        CHECK(at2.at(version) == body);
    }
    CHECK(common >= 6);
    // x has one honest vote of three: never listed.
    CHECK(listing_x == 0);
    // Both honest authorities caught the liar.
    for (const char* name : {"authority-1", "authority-2"})
        CHECK(slurp(net.dir() / name / "veil.log").find("signed two different votes") != std::string::npos);
}

TEST_CASE("directory integration - a client's threshold below a majority of its keys is refused",
          "[node][integration][directory]") {
    auto dir = fs::temp_directory_path() / ("veil-threshold-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string keys;
    for (int i = 0; i < 3; ++i)
        keys += std::string(i ? ", " : "") + "\"" + veil::wire::to_hex(veil::crypto::SigningKeyPair::generate().pub) + "\"";
    std::ofstream(dir / "client.toml") << "[kernel]\nplugins = [\"network\"]\nhome = \"" << (dir / "home").string()
                                       << "\"\n\n[network]\nauthority_keys = [" << keys
                                       << "]\nauthority_threshold = 1\nseed_nodes = [\"127.0.0.1:1\"]\n";
    auto r = veil::test::run_veil({"--config", (dir / "client.toml").string(), "network", "status"}, {}, 30000);
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK((r.out + r.err).find("authority_threshold 1 is below a majority of the 3 authority keys") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("directory integration - an authority whose tick cannot meet the vote rounds refuses to start",
          "[node][integration][directory]") {
    auto dir = fs::temp_directory_path() / ("veil-tick-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    // A network of one: threshold 1, one round of half a period (500 ms); a tick of 400 ms could
    // send the vote 400 ms late, leaving 100 ms of its round for the network.
    std::ofstream(dir / "authority.toml") << "[kernel]\nplugins = [\"directory\"]\nhome = \"" << (dir / "home").string()
                                          << "\"\n\n[directory]\nlisten = \"127.0.0.1:0\"\nperiod_ms = 1000\ntick_ms = 400\n";
    auto r = veil::test::run_veil({"--config", (dir / "authority.toml").string()}, {}, 15000);
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK((r.out + r.err).find("directory.tick_ms 400 cannot meet the vote rounds") != std::string::npos);
    CHECK((r.out + r.err).find("at most 250") != std::string::npos);
    fs::remove_all(dir);
}
