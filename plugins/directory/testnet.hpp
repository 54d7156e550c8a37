#pragma once
/// `veil testnet`: the files a local test network is made of. Pure functions (no processes);
/// testnet_plugin.cpp starts and stops the processes.
///
/// Layout of DIR:
///   DIR/authority-<i>/veil.toml, DIR/authority-<i>/veil.log,
///   DIR/authority-<i>/directory/{authority.key,authority.pub,consensus.bin}
///   DIR/node-<i>/veil.toml, DIR/node-<i>/veil.log, DIR/node-<i>/service-node/{node.key,messages.db,...}
///   (each node runs service-node, onion-relay and attachment-store)
///   DIR/testnet.pids   one "name pid" line per process
///   DIR/network.toml   for clients: authority keys, directory and seed nodes
///   DIR/hosts.state    with --hosts: the namespaces, links and bridge made (hosts.hpp)
///   DIR/<name>/link.log  with --hosts: the link emulator in front of that process (veil-link)

#include <filesystem>
#include <string>
#include <vector>

#include "veil/proto/types.hpp"

namespace veil::directory {

// The authority signs the SDK's manifest format; its names are used unqualified here.
using namespace veil::proto;

/// One process of the test network.
struct TestnetProcess {
    std::string name;  ///< "authority-<i>" or "node-<i>"
    std::filesystem::path config;
    std::filesystem::path log;
    std::uint16_t port = 0;
    PublicKey key{};  ///< the authority's or the node's Ed25519 key
    /// Where the others reach it: 127.0.0.1, or with --hosts its namespace's address (the
    /// process itself listens on 127.0.0.1 inside its namespace, behind the link emulator).
    std::string host = "127.0.0.1";
};

/// Everything `up` decided.
struct TestnetPlan {
    std::filesystem::path dir;
    std::size_t swarm_size = 3;
    std::vector<TestnetProcess> authorities;
    std::vector<TestnetProcess> nodes;
    /// Extra "key=value" (TOML value) for every authority's [directory] table (period_ms,
    /// validity_ms, ...); an option replaces the test network's default for its key.
    std::vector<std::string> authority_options;
    /// Extra "key=value" (TOML value) for [service-node], or "plugin.key=value" for another
    /// table of the node (onion-relay, attachment-store).
    std::vector<std::string> node_options;
};

/// The test network's period: short, so that a node registered appears within a second or two.
inline constexpr std::uint64_t kTestnetPeriodMs = 1000;
/// Authority i's config file text (i indexes plan.authorities).
[[nodiscard]] std::string authority_config(const TestnetPlan& plan, std::size_t i);
/// Node i's config file text (i indexes plan.nodes).
[[nodiscard]] std::string node_config(const TestnetPlan& plan, std::size_t i);
/// DIR/network.toml: [network] authority_keys, authorities, authority_threshold (more than half),
/// test_network, max_nodes_per_block, directory (the first authority), seed_nodes.
[[nodiscard]] std::string network_file(const TestnetPlan& plan);

/// "name pid" lines of DIR/testnet.pids; empty if the file is missing.
[[nodiscard]] std::vector<std::pair<std::string, int>> read_pids(const std::filesystem::path& dir);
/// True if pid is alive and runs a veil process whose command line names `dir`.
[[nodiscard]] bool is_testnet_process(int pid, const std::filesystem::path& dir);
/// True once pid is gone or a zombie (a process in execve, whose command line reads empty for a
/// moment, has not exited).
[[nodiscard]] bool process_exited(int pid);
/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
[[nodiscard]] std::uint16_t free_loopback_port();

}  // namespace veil::directory
