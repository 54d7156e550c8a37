// Admission on real processes: an authority lists a node only after reaching it at the address
// it registers and seeing it sign a fresh challenge there; addresses outside the network's
// policy and beyond the per-block limit are refused with a reason (docs/admission.md).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "support/challenge_listener.hpp"
#include "support/node_rpc.hpp"
#include "testnet.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/proto/directory_rpc.hpp"
#include "veil/proto/manifest_diff.hpp"
#include "veil/sdk/clock.hpp"

using namespace veil;
using namespace veil::test;

namespace {

bool contains(const wire::Bytes& hay, const proto::PublicKey& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

std::uint16_t port_in(const std::string& toml) {
    std::smatch m;
    std::regex listen("listen = \"127\\.0\\.0\\.1:([0-9]+)\"");
    REQUIRE(std::regex_search(toml, m, listen));
    return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// Registers `d` with the authority at `port`; the authority's answer.
proto::DirectoryResponse register_at(NodeRpc& rpc, std::uint16_t port, const proto::NodeDescriptor& d,
                                     const crypto::SigningKeyPair& key) {
    proto::DirectoryRequest q{proto::DirectoryKind::register_node, proto::sign_descriptor(d, key), {}};
    auto r = rpc.exchange(port, proto::encode_directory_request(q));
    REQUIRE(r);
    return proto::decode_directory_response(proto::DirectoryKind::register_node, r.value());
}

std::optional<proto::Manifest> manifest_at(NodeRpc& rpc, std::uint16_t port) {
    auto r = rpc.exchange(port, proto::encode_directory_request({proto::DirectoryKind::get_manifest, {}, {}}));
    if (!r) return std::nullopt;
    auto resp = proto::decode_directory_response(proto::DirectoryKind::get_manifest, r.value());
    if (resp.status != proto::DirectoryStatus::ok) return std::nullopt;
    return proto::decode_signed_manifest(resp.manifest).manifest;
}

proto::NodeDescriptor descriptor(const crypto::SigningKeyPair& k, const std::string& host, std::uint16_t port) {
    return {k.pub, crypto::ed25519_to_x25519(k.pub), host, port, now_ms()};
}

// An authority alone, from a config written here; killed at the end.
class LoneAuthority final {
public:
    explicit LoneAuthority(const std::string& settings) {
        static int counter = 0;
        dir_ = fs::temp_directory_path() / ("veil-admission-it-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        port_ = directory::free_loopback_port();
        std::ofstream(dir_ / "veil.toml") << "[kernel]\nplugins = [\"directory\"]\nhome = \"" << dir_.string()
                                          << "\"\n\n[directory]\nlisten = \"127.0.0.1:" << port_ << "\"\ntick_ms = 200\n"
                                          << settings;
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            int fd = ::open((dir_ / "veil.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execl(kVeil.c_str(), kVeil.c_str(), "--config", (dir_ / "veil.toml").c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        NodeRpc probe;
        for (int i = 0; i < 100 && !probe.exchange(port_, proto::encode_directory_request({proto::DirectoryKind::get_manifest, {}, {}}), 500); ++i)
            std::this_thread::sleep_for(50ms);
    }
    ~LoneAuthority() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        fs::remove_all(dir_);
    }
    std::uint16_t port() const { return port_; }
    std::string log() const { return slurp(dir_ / "veil.log"); }

private:
    fs::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("node integration - a registration at a plain listener, at nothing, or at another node is never listed",
          "[node][integration]") {
    Testnet net(3, 3);
    // Every authority of the test network (each votes on what it admitted itself).
    std::vector<std::uint16_t> authority_ports;
    std::vector<proto::PublicKey> authority_keys;
    for (int i = 1; std::filesystem::exists(net.dir() / ("authority-" + std::to_string(i))); ++i) {
        auto dir = net.dir() / ("authority-" + std::to_string(i));
        authority_ports.push_back(port_in(slurp(dir / "veil.toml")));
        authority_keys.push_back(wire::to_array<32>(wire::from_hex(slurp(dir / "directory" / "authority.pub").substr(0, 64))));
    }
    REQUIRE(authority_ports.size() >= 1);
    PlainListener plain("127.0.0.1");
    auto nothing = directory::free_loopback_port();
    auto fake_plain = crypto::SigningKeyPair::generate();
    auto fake_nothing = crypto::SigningKeyPair::generate();
    auto fake_other = crypto::SigningKeyPair::generate();
    NodeRpc rpc;
    // Heartbeats for 8 s: several retry periods (2 s) and a re-check period (5 s) of the testnet.
    int checking = 0, refused = 0;
    auto deadline = now_ms() + 8000;
    while (now_ms() < deadline) {
        for (auto [key, port] : {std::pair{&fake_plain, plain.port()}, std::pair{&fake_nothing, nothing},
                                 std::pair{&fake_other, net.ports()[0]}}) {
            for (auto authority_port : authority_ports) {
                auto r = register_at(rpc, authority_port, descriptor(*key, "127.0.0.1", port), *key);
                CHECK(r.status != proto::DirectoryStatus::ok);
                checking += r.status == proto::DirectoryStatus::checking;
                refused += r.status == proto::DirectoryStatus::refused;
            }
        }
        auto m = manifest_at(rpc, authority_ports[0]);
        REQUIRE(m);
        CHECK_FALSE(m->find(fake_plain.pub));
        CHECK_FALSE(m->find(fake_nothing.pub));
        CHECK_FALSE(m->find(fake_other.pub));
        CHECK(m->nodes.size() == 3);  // the real nodes pass their re-checks
        std::this_thread::sleep_for(500ms);
    }
    CHECK(checking >= 3);
    CHECK(refused > 0);  // failed addresses wait retry_after_ms before the next probe
    // Only the authorities' challenges (they carry an authority's key) ever reached the plain
    // listener: no relay, no swarm peer, no client; and few of them (one per retry period and
    // authority at most).
    auto conns = plain.connections();
    CHECK(!conns.empty());
    CHECK(conns.size() <= authority_ports.size() * (8000 / 2000 + 1));
    for (const auto& c : conns) {
        CHECK((c.empty() || std::any_of(authority_keys.begin(), authority_keys.end(),
                                        [&](const auto& k) { return contains(c, k); })));
    }
    CHECK(rpc.close() == 0);
}

TEST_CASE("node integration - a loopback address on a network that is not a test network is refused",
          "[node][integration]") {
    LoneAuthority authority("test_network = false\n");
    PlainListener plain("127.0.0.1");
    auto key = crypto::SigningKeyPair::generate();
    NodeRpc rpc;
    auto r = register_at(rpc, authority.port(), descriptor(key, "127.0.0.1", plain.port()), key);
    CHECK(r.status == proto::DirectoryStatus::refused);
    CHECK(r.message.find("loopback") != std::string::npos);
    std::this_thread::sleep_for(500ms);
    CHECK(plain.connections().empty());  // never probed
    CHECK(authority.log().find("registration refused: address refused: a loopback address") != std::string::npos);
    CHECK(rpc.close() == 0);
}

// Registers every key until the authority lists it (ok) or refuses it; the last answer of each.
std::vector<proto::DirectoryResponse> register_all(NodeRpc& rpc, std::uint16_t authority,
                                                   const std::vector<std::pair<crypto::SigningKeyPair*, PlainListener*>>& nodes,
                                                   const std::vector<std::string>& hosts) {
    std::vector<proto::DirectoryResponse> last(nodes.size());
    for (int round = 0; round < 40; ++round) {
        bool settled = true;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (round > 0 && last[i].status != proto::DirectoryStatus::checking) continue;
            last[i] = register_at(rpc, authority, descriptor(*nodes[i].first, hosts[i], nodes[i].second->port()), *nodes[i].first);
            settled &= last[i].status != proto::DirectoryStatus::checking;
        }
        if (settled) break;
        std::this_thread::sleep_for(100ms);
    }
    return last;
}

TEST_CASE("node integration - a hostile operator's keys on one address or block are listed up to the limits",
          "[node][integration]") {
    // Every fake answers its challenge correctly: the limits, not the proof, must stop them.
    LoneAuthority authority("test_network = true\nmax_nodes_per_block = 3\nmax_nodes_per_address = 2\n");
    std::vector<crypto::SigningKeyPair> keys;
    for (int i = 0; i < 6; ++i) keys.push_back(crypto::SigningKeyPair::generate());
    std::vector<std::string> hosts{"127.0.1.1", "127.0.1.1", "127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.2.1"};
    std::vector<std::unique_ptr<PlainListener>> listeners;
    std::vector<std::pair<crypto::SigningKeyPair*, PlainListener*>> nodes;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        listeners.push_back(std::make_unique<PlainListener>(hosts[i], &keys[i]));
        nodes.emplace_back(&keys[i], listeners.back().get());
    }
    NodeRpc rpc;
    // Three keys on 127.0.1.1 prove at once, with the honest node of another block.
    auto last = register_all(rpc, authority.port(), {nodes[0], nodes[1], nodes[2], nodes[5]},
                             {hosts[0], hosts[1], hosts[2], hosts[5]});
    int listed = 0;
    for (int i = 0; i < 3; ++i) listed += last[i].status == proto::DirectoryStatus::ok;
    CHECK(listed == 2);
    CHECK(last[3].status == proto::DirectoryStatus::ok);
    auto refusal = std::find_if(last.begin(), last.begin() + 3, [](const auto& r) { return r.status != proto::DirectoryStatus::ok; });
    REQUIRE(refusal != last.begin() + 3);
    CHECK(refusal->message.find("127.0.1.1/32") != std::string::npos);
    CHECK(refusal->message.find("max_nodes_per_address = 2") != std::string::npos);
    // Then one more address of the block fills it, and the next is refused.
    CHECK(register_all(rpc, authority.port(), {nodes[3]}, {hosts[3]})[0].status == proto::DirectoryStatus::ok);
    auto fifth = register_all(rpc, authority.port(), {nodes[4]}, {hosts[4]})[0];
    CHECK(fifth.status == proto::DirectoryStatus::refused);
    CHECK(fifth.message.find("127.0.1.0/24") != std::string::npos);
    CHECK(fifth.message.find("max_nodes_per_block = 3") != std::string::npos);
    CHECK(authority.log().find("already holds 3 nodes") != std::string::npos);
    CHECK(rpc.close() == 0);
}

TEST_CASE("node integration - a flood of unreachable registrations from one block does not delay another block's node",
          "[node][integration]") {
    // 100 registrations from 127.0.1.0/24 at a listener that never answers (each challenge would
    // hold a probe slot for 20 s), then an honest node of 127.0.2.0/24.
    LoneAuthority authority("test_network = true\nmax_nodes_per_block = 0\nmax_nodes_per_address = 0\nchallenge_timeout_ms = 20000\n");
    PlainListener squat("127.0.1.1");
    NodeRpc rpc;
    int flood_checking = 0;
    for (int i = 0; i < 100; ++i) {
        auto k = crypto::SigningKeyPair::generate();
        flood_checking += register_at(rpc, authority.port(), descriptor(k, "127.0.1.1", squat.port()), k).status ==
                          proto::DirectoryStatus::checking;
    }
    CHECK(flood_checking == 8);  // max_checks_per_block probed, as many waiting for that address
    auto honest = crypto::SigningKeyPair::generate();
    PlainListener node("127.0.2.1", &honest);
    auto started = now_ms();
    auto last = register_all(rpc, authority.port(), {{&honest, &node}}, {"127.0.2.1"});
    CHECK(last[0].status == proto::DirectoryStatus::ok);
    CHECK(now_ms() - started < 5000);  // well before the flood's challenges time out (20 s)
    CHECK(rpc.close() == 0);
}

TEST_CASE("node integration - a replayed older descriptor naming another address does not evict a listed node",
          "[node][integration]") {
    LoneAuthority authority("test_network = true\n");
    auto key = crypto::SigningKeyPair::generate();
    PlainListener node("127.0.0.1", &key);
    // Signed by the node earlier (say, before it moved), captured by an attacker.
    auto old = descriptor(key, "127.0.0.1", node.port() == 65535 ? 1 : static_cast<std::uint16_t>(node.port() + 1));
    std::this_thread::sleep_for(20ms);
    NodeRpc rpc;
    auto last = register_all(rpc, authority.port(), {{&key, &node}}, {"127.0.0.1"});
    REQUIRE(last[0].status == proto::DirectoryStatus::ok);
    auto replay = register_at(rpc, authority.port(), old, key);
    CHECK(replay.status == proto::DirectoryStatus::refused);
    CHECK(replay.message.find("older") != std::string::npos);
    std::this_thread::sleep_for(20ms);
    CHECK(register_at(rpc, authority.port(), descriptor(key, "127.0.0.1", node.port()), key).status == proto::DirectoryStatus::ok);
    CHECK(rpc.close() == 0);
}

TEST_CASE("node integration - a killed node is dropped by its re-check; nodes answer current, then a diff",
          "[node][integration]") {
    Testnet net(3, 3);
    NodeRpc rpc;
    auto whole = [&] {
        auto r = rpc.call(net.ports()[0], proto::node::GetManifestRequest{});
        REQUIRE(r);
        REQUIRE(r->status == proto::node::Status::ok);
        return proto::decode_signed_manifest(std::get<proto::node::ManifestResponse>(r->body).envelope);
    };
    // A new version comes every period (1 s on a testnet): ask right after fetching, and again if
    // the period turned in between.
    auto held = whole();
    std::optional<proto::node::Response> same;
    for (int i = 0; i < 5; ++i) {
        held = whole();
        same = rpc.call(net.ports()[0], proto::node::GetManifestRequest{held.manifest.version});
        REQUIRE(same);
        if (std::get<proto::node::ManifestResponse>(same->body).kind == proto::node::ManifestAnswer::current) break;
    }
    REQUIRE(held.manifest.nodes.size() == 3);
    CHECK(std::get<proto::node::ManifestResponse>(same->body).kind == proto::node::ManifestAnswer::current);
    CHECK(proto::node::encode_response(proto::node::Method::get_manifest, *same).size() < 16);

    // node-3 stops answering: the authority's next re-check (recheck_ms = 5000 on a testnet)
    // drops it, before its heartbeat timeout (15 s) would.
    net.kill9(net.name_of(net.ports()[2]));
    auto started = now_ms();
    auto next = held;
    while (next.manifest.nodes.size() == 3 && now_ms() < started + 30'000) {
        std::this_thread::sleep_for(200ms);
        next = whole();
    }
    REQUIRE(next.manifest.nodes.size() == 2);
    CHECK(now_ms() - started < 12'000);  // at most one re-check period and a challenge later
    // A node keeps the last 8 manifests for diffs (8 periods, 8 s here): ask from a recent one.
    held = whole();
    auto answer = rpc.call(net.ports()[0], proto::node::GetManifestRequest{held.manifest.version});
    for (int i = 0; i < 20 && std::get<proto::node::ManifestResponse>(answer->body).kind == proto::node::ManifestAnswer::current; ++i) {
        std::this_thread::sleep_for(200ms);
        answer = rpc.call(net.ports()[0], proto::node::GetManifestRequest{held.manifest.version});
    }
    REQUIRE(answer);
    const auto& m = std::get<proto::node::ManifestResponse>(answer->body);
    REQUIRE(m.kind == proto::node::ManifestAnswer::diff);
    auto rebuilt = proto::apply_manifest_diff(held, proto::decode_manifest_diff(m.diff));
    auto served = whole();
    CHECK(rebuilt.manifest.version > held.manifest.version);
    // (The authority may have moved on again meanwhile; then the bodies differ by design.)
    if (served.manifest.version == rebuilt.manifest.version) CHECK(rebuilt.body == served.body);
    auto verifier = net.verifier();
    CHECK(verifier.accept(held, sdk::now_ms()) == proto::ManifestCheck::ok);
    CHECK(verifier.accept(rebuilt, sdk::now_ms()) == proto::ManifestCheck::ok);
    CHECK(rpc.close() == 0);
}
