// The node's port with one framing (every frame names its service), the onion relay as its own
// plugin, and the service node's bus contracts for co-located plugins (veil/sdk/node.hpp).
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <sstream>

#include "support/node_rpc.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/crypto/key_file.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/proto/blob_rpc.hpp"
#include "veil/sdk/transport.hpp"

using namespace veil::proto::node;
namespace tr = veil::sdk::transport;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using veil::test::Testnet;
using veil::test::slurp;

namespace {

Bytes info_request() { return encode_request(Request{3, InfoRequest{}}); }

// A service's answer; the frame must succeed and carry a service response.
tr::Response ask(veil::test::NodeRpc& rpc, std::uint16_t port, std::string_view service, const Bytes& body) {
    auto r = rpc.ask(port, service, body);
    INFO(service);
    REQUIRE(r.ok());
    return r.value();
}

}  // namespace

TEST_CASE("node integration - every frame on the node's port names its service", "[node][integration]") {
    Testnet net(1, 1);
    auto port = net.ports()[0];
    {
        veil::test::NodeRpc rpc;
        auto info = ask(rpc, port, kStorageService, info_request());
        REQUIRE(info.status == tr::Status::ok);
        CHECK(decode_response(Method::info, info.body).status == Status::ok);
        // A bare storage RPC (the old framing) is not a service request: the frame fails.
        CHECK_FALSE(rpc.exchange(port, info_request()).ok());
        // Each service takes its own requests only.
        auto peer_info = ask(rpc, port, kPeerService, info_request());
        REQUIRE(peer_info.status == tr::Status::ok);
        CHECK(decode_response(Method::info, peer_info.body).status == Status::bad_request);
        auto storage_peer = ask(rpc, port, kStorageService, encode_request(Request{4, PeerRequest{Bytes(200, 1)}}));
        REQUIRE(storage_peer.status == tr::Status::ok);
        CHECK(decode_response(Method::peer, storage_peer.body).status == Status::bad_request);
        CHECK(ask(rpc, port, "nothing-here", {1, 2, 3}).status == tr::Status::unknown_service);
        // The onion-relay plugin answers "onion"; a blob that opens to nothing is refused.
        auto bad_blob = ask(rpc, port, "onion", Bytes(4096, 7));
        CHECK(bad_blob.status == tr::Status::error);
        CHECK(std::string(bad_blob.body.begin(), bad_blob.body.end()).find("onion: bad layer") != std::string::npos);
        CHECK(rpc.close() == 0);
    }

    // The same node without the onion-relay plugin: "onion" is nobody's service; storage works.
    auto cfg = slurp(net.dir() / "node-1" / "veil.toml");
    for (std::string cut : {"\"onion-relay\", ", "[onion-relay]"}) {
        auto at = cfg.find(cut);
        REQUIRE(at != std::string::npos);
        cfg.erase(at, cut.size());
    }
    std::ofstream(net.dir() / "node-1" / "veil-no-relay.toml") << cfg;
    net.kill9("node-1");
    net.restart("node-1", "veil-no-relay.toml");
    veil::test::NodeRpc rpc;
    std::optional<Response> info;
    for (int i = 0; i < 100 && !info; ++i) {
        if (i) std::this_thread::sleep_for(100ms);
        veil::test::NodeRpc attempt;  // a fresh connection while the node comes up
        info = attempt.call(port, InfoRequest{});
    }
    REQUIRE(info);
    CHECK(info->status == Status::ok);
    CHECK(ask(rpc, port, "onion", Bytes(4096, 7)).status == tr::Status::unknown_service);
    CHECK(rpc.close() == 0);
}

namespace {

// Runs the node-probe fixture beside a lone node (no directory answers: it has no manifest, which
// these requests do not need).
veil::test::ProcessResult run_probe(veil::test::TempDir& dir, const veil::crypto::DhKeyPair& peer, const Bytes& message,
                                const std::string& node_extra) {
    auto config = dir.write("node.toml",
                            "[kernel]\nplugins = [\"service-node\", \"node-probe\", \"cli\"]\nplugin_dirs = [\"" +
                                veil::test::fixture_dir() + "\"]\nhome = \"" + (dir.path() / "home").string() +
                                "\"\n\n[service-node]\nlisten = \"127.0.0.1:0\"\ndirectory = \"127.0.0.1:1\"\n"
                                "authority_keys = [\"" + std::string(64, '0') + "\"]\n" + node_extra);
    return veil::test::run_veil({"--config", config, "node-probe", veil::wire::to_hex(peer.pub), veil::wire::to_hex(message)});
}

// The probe's "key value" lines.
std::map<std::string, std::string> probe(veil::test::TempDir& dir, const veil::crypto::DhKeyPair& peer,
                                         const Bytes& message, const std::string& node_extra = "") {
    auto r = run_probe(dir, peer, message, node_extra);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::map<std::string, std::string> seen;
    std::istringstream lines(r.out);
    for (std::string k, v; lines >> k >> v;) seen[k] = v;
    return seen;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

}  // namespace

TEST_CASE("node integration - co-located plugins get the node's identity, signatures and key agreement on the bus",
          "[node][integration]") {
    veil::test::TempDir dir;
    auto peer = veil::crypto::DhKeyPair::generate();
    const Bytes message = text(std::string(veil::proto::blob::kListDomain) + " a list request");
    auto seen = probe(dir, peer, message);

    // Exactly the node's key file: the plugin never read it.
    auto node_key = veil::crypto::load_or_create_signing_key(dir.path() / "home" / "service-node" / "node.key");
    auto x25519 = veil::crypto::ed25519_to_x25519(node_key.pub);
    CHECK(seen["ed25519"] == veil::wire::to_hex(node_key.pub));
    CHECK(seen["x25519"] == veil::wire::to_hex(x25519));
    auto signature = veil::wire::from_hex(seen["signature"]);
    REQUIRE(signature.size() == 64);
    CHECK(veil::crypto::verify_signature(node_key.pub, message, veil::wire::to_array<64>(signature)));
    auto shared = veil::crypto::dh(peer.sec, x25519);
    CHECK(seen["shared"] == veil::wire::to_hex(shared.view()));
}

TEST_CASE("node integration - a co-located plugin cannot get the node's signature on the node's own protocol",
          "[node][integration]") {
    veil::test::TempDir dir;
    auto peer = veil::crypto::DhKeyPair::generate();
    // A peer envelope's signed bytes, a descriptor's, anything untagged: refused.
    for (std::string_view m : {"veil-peer-v3 forged replication", "veil-node-descriptor-v1 x", "veil-probe", "hello"}) {
        INFO(m);
        auto seen = probe(dir, peer, text(m));
        CHECK(seen.count("signature") == 0);
        CHECK(seen["sign-refused"] == "refused");
    }
    // An operator allows a plugin's own tag; the tag alone (nothing after it) is still refused.
    auto seen = probe(dir, peer, text("probe-v1 hello"), "sign_domains = [\"probe-v1\"]\n");
    CHECK(seen["signature"].size() == 128);
    CHECK(probe(dir, peer, text("probe-v1"), "sign_domains = [\"probe-v1\"]\n")["sign-refused"] == "refused");
    // Reserved or too short tags are a config error naming the key.
    for (std::string_view tag : {"veil-peer-v3", "veil", "v"}) {
        auto r = run_probe(dir, peer, text("probe-v1 hello"), "sign_domains = [\"" + std::string(tag) + "\"]\n");
        INFO(tag << ": " << r.err);
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("sign_domains") != std::string::npos);
    }
}
