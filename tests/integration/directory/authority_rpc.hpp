#pragma once
// What the directory integration tests ask an authority process directly (its port, from its
// config, and the manifest it serves), and the two moves of the lying-authority tests.
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <regex>

#include "support/node_rpc.hpp"
#include "support/process.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/proto/directory_rpc.hpp"

namespace veil::test {

inline std::uint16_t listen_port(const std::filesystem::path& config) {
    std::smatch m;
    auto text = slurp(config);
    REQUIRE(std::regex_search(text, m, std::regex("listen = \"127\\.0\\.0\\.1:([0-9]+)\"")));
    return static_cast<std::uint16_t>(std::stoi(m[1]));
}

inline std::optional<proto::SignedManifest> manifest_at(NodeRpc& rpc, std::uint16_t port) {
    auto r = rpc.exchange(port, proto::encode_directory_request({proto::DirectoryKind::get_manifest, {}, {}}));
    if (!r) return std::nullopt;
    auto resp = proto::decode_directory_response(proto::DirectoryKind::get_manifest, r.value());
    if (resp.status != proto::DirectoryStatus::ok) return std::nullopt;
    return proto::decode_signed_manifest(resp.manifest);
}

// Restarts authority-3 with test_misbehave = `how` (tests only).
inline void restart_as_liar(Testnet& net, const std::string& how) {
    net.kill9("authority-3");
    std::ofstream(net.dir() / "authority-3" / "liar.toml")
        << slurp(net.dir() / "authority-3" / "veil.toml") << "test_misbehave = \"" << how << "\"\n";
    net.restart("authority-3", "liar.toml");
}

// Starts node-x, a copy of the last node that registers with every authority but the one on
// `skipped` (so the liar's vote alone decides whether it is listed). Returns its port.
inline std::uint16_t start_node_skipping(Testnet& net, std::uint16_t skipped) {
    auto last = "node-" + std::to_string(net.ports().size());
    auto text = slurp(net.dir() / last / "veil.toml");
    text = std::regex_replace(text, std::regex(last), "node-x");
    text = std::regex_replace(text, std::regex("\"127\\.0\\.0\\.1:" + std::to_string(skipped) + "\",? ?"), "");
    const auto port = static_cast<std::uint16_t>(net.ports().back() + 50);
    text = std::regex_replace(text, std::regex("listen = \"127\\.0\\.0\\.1:[0-9]+\""),
                              "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
    std::filesystem::create_directories(net.dir() / "node-x");
    std::ofstream(net.dir() / "node-x" / "veil.toml") << text;
    net.restart("node-x");
    return port;
}

// A veil-link between two processes on 127.0.0.1 (listen -> to, `delay_ms` each way and, when
// not 0, `bandwidth_kbit` each way per connection), killed with the object.
class DelayedLink {
public:
    DelayedLink(std::uint16_t listen, std::uint16_t to, int delay_ms, const std::filesystem::path& log,
                std::uint64_t bandwidth_kbit = 0) {
        auto profile = log;
        profile.replace_extension(".toml");
        std::ofstream(profile) << "[default]\nbandwidth_kbit = " << bandwidth_kbit << "\n";
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_ = detail::spawn({std::string(VEIL_BINARY_DIR) + "/bin/veil-link", "--listen", "127.0.0.1:" + std::to_string(listen),
                              "--to", "127.0.0.1:" + std::to_string(to), "--link", "delayed", "--delay", std::to_string(delay_ms),
                              "--profile", profile.string()},
                             {}, fd, fd);
        close(fd);
        REQUIRE_FALSE(wait_for_line(log).empty());  // listening
    }
    ~DelayedLink() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    DelayedLink(const DelayedLink&) = delete;
    DelayedLink& operator=(const DelayedLink&) = delete;

private:
    pid_t pid_ = -1;
};

// Restarts `name` so that it reaches the authority on `port` at `instead` (a link in between).
inline void reach_through(Testnet& net, const std::string& name, std::uint16_t port, std::uint16_t instead) {
    net.kill9(name);
    auto text = std::regex_replace(slurp(net.dir() / name / "veil.toml"), std::regex("\"127\\.0\\.0\\.1:" + std::to_string(port) + "\""),
                                   "\"127.0.0.1:" + std::to_string(instead) + "\"");
    std::ofstream(net.dir() / name / "linked.toml") << text;
    net.restart(name, "linked.toml");
}

}  // namespace veil::test
