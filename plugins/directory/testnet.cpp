#include "testnet.hpp"

#include <sodium.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "veil/wire/codec.hpp"

namespace veil::directory {

namespace {

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string loopback(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }
// Where the other processes and clients reach p.
std::string address(const TestnetProcess& p) { return p.host + ":" + std::to_string(p.port); }


using Keys = std::vector<std::pair<std::string, std::string>>;  // TOML key = value, in the order written

// Sets key to value, replacing an earlier value (TOML refuses a key twice).
void set(Keys& keys, const std::string& key, const std::string& value) {
    auto it = std::find_if(keys.begin(), keys.end(), [&key](const auto& kv) { return kv.first == key; });
    if (it != keys.end()) it->second = value;
    else keys.emplace_back(key, value);
}

void put(std::ostringstream& o, const Keys& keys) {
    for (const auto& [k, v] : keys) o << k << " = " << v << "\n";
}

std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
    return out + "]";
}

std::string authority_keys(const TestnetPlan& plan) {
    std::vector<std::string> keys;
    for (const auto& a : plan.authorities) keys.push_back(wire::to_hex(a.key));
    return list(keys);
}

std::string authority_addresses(const TestnetPlan& plan) {
    std::vector<std::string> at;
    for (const auto& a : plan.authorities) at.push_back(address(a));
    return list(at);
}

std::string threshold(const TestnetPlan& plan) { return std::to_string(plan.authorities.size() / 2 + 1); }

}  // namespace

std::string authority_config(const TestnetPlan& plan, std::size_t i) {
    const auto& a = plan.authorities.at(i);
    std::ostringstream o;
    o << "# Directory authority " << i + 1 << " of " << plan.authorities.size()
      << " of a local test network (written by `veil testnet up`).\n"
      << "[kernel]\nplugins = [\"directory\"]\nhome = " << quoted((plan.dir / a.name).string()) << "\n\n[directory]\n";
    Keys keys{{"listen", quoted(loopback(a.port))},
              {"authority_keys", authority_keys(plan)},
              {"authorities", authority_addresses(plan)},
              {"authority_threshold", threshold(plan)},
              {"test_network", "true"},
              {"max_nodes_per_block", "0"},
              {"max_nodes_per_address", "0"},
              {"max_checks_per_block", "0"},
              {"period_ms", std::to_string(kTestnetPeriodMs)},
              {"validity_ms", "60000"},
              {"target_swarm_size", std::to_string(plan.swarm_size)},
              {"min_swarm_size", std::to_string(std::max<std::size_t>(1, (plan.swarm_size + 1) / 2))},
              {"heartbeat_timeout_ms", "15000"},
              {"warm_up_ms", "1500"},  // nodes beat every second
              {"tick_ms", "100"},
              // Admission: loopback addresses are admitted only on a test network (above); every
              // node shares 127.0.0.1, so the per-block limit is off (admission_test.cpp tests it).
              {"recheck_ms", "5000"},
              {"retry_after_ms", "2000"}};
    for (const auto& kv : plan.authority_options) {
        auto eq = kv.find('=');
        set(keys, kv.substr(0, eq), kv.substr(eq + 1));
    }
    put(o, keys);
    return o.str();
}

std::string node_config(const TestnetPlan& plan, std::size_t i) {
    const auto& n = plan.nodes.at(i);
    std::ostringstream o;
    o << "# Service node of a local test network (written by `veil testnet up`).\n"
      << "[kernel]\nplugins = [\"service-node\", \"onion-relay\", \"attachment-store\"]\nhome = "
      << quoted((plan.dir / n.name).string()) << "\n\n"
      << "[service-node]\nlisten = " << quoted(loopback(n.port)) << "\n";
    if (n.host != "127.0.0.1") o << "public_host = " << quoted(n.host) << "\n";
    o
      << "directories = " << authority_addresses(plan) << "\n"
      << "authority_keys = " << authority_keys(plan) << "\n"
      << "authority_threshold = " << threshold(plan) << "\n";
    // "PLUGIN.KEY=VALUE" options go to that plugin's table (onion-relay, attachment-store), the
    // rest to [service-node]; an option replaces the test network's default for its key.
    // Every process of a loopback testnet connects from 127.0.0.1: without loopback_per_connection,
    // one node's pool of connections would lock the others out of a node's port.
    Keys node_keys{{"loopback_per_connection", "true"},
                   {"heartbeat_ms", "1000"},
                   {"manifest_poll_ms", "300"},
                   {"catch_up_ms", "5000"},
                   {"sweep_ms", "5000"}};
    std::map<std::string, Keys> tables{{"onion-relay", {}}, {"attachment-store", {{"sweep_ms", "1000"}, {"catch_up_ms", "3000"}}}};
    for (const auto& kv : plan.node_options) {
        auto eq = kv.find('=');
        auto dot = kv.find('.');
        if (dot < eq) set(tables[kv.substr(0, dot)], kv.substr(dot + 1, eq - dot - 1), kv.substr(eq + 1));
        else set(node_keys, kv.substr(0, eq), kv.substr(eq + 1));
    }
    put(o, node_keys);
    for (const auto& [table, keys] : tables) {
        o << "\n[" << table << "]\n";
        put(o, keys);
    }
    return o.str();
}

std::string network_file(const TestnetPlan& plan) {
    std::vector<std::string> seeds;
    for (const auto& n : plan.nodes) seeds.push_back(address(n));
    std::ostringstream o;
    o << "# A local Veil test network, for clients (written by `veil testnet up`).\n"
      << "[network]\nauthority_keys = " << authority_keys(plan) << "\n"
      << "authorities = " << authority_addresses(plan) << "\n"
      << "authority_threshold = " << threshold(plan) << "\n"
      << "test_network = true\nmax_nodes_per_block = 0\n"
      << "directory = " << quoted(address(plan.authorities.at(0))) << "\n"
      << "seed_nodes = " << list(seeds) << "\n";
    return o.str();
}

std::vector<std::pair<std::string, int>> read_pids(const std::filesystem::path& dir) {
    std::vector<std::pair<std::string, int>> out;
    std::ifstream in(dir / "testnet.pids");
    std::string name;
    int pid = 0;
    while (in >> name >> pid) out.emplace_back(name, pid);
    return out;
}

bool is_testnet_process(int pid, const std::filesystem::path& dir) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Exited but not yet reaped: a zombie has an empty command line.
    return !cmd.empty() && cmd.find(dir.string()) != std::string::npos;
}

bool process_exited(int pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return true;
    // Not the command line: it reads empty for a moment while the process is in execve, which
    // made `testnet up` report a starting node as exited on a loaded machine.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto name_end = stat.rfind(')');
    if (name_end == std::string::npos || name_end + 2 >= stat.size()) return true;
    char state = stat[name_end + 2];
    return state == 'Z' || state == 'X';
}

std::uint16_t free_loopback_port() {
    // Below Linux's ephemeral range (32768 and up), so that the outgoing connections of busy
    // tests running beside this one cannot take the port between this check and the node's bind.
    constexpr std::uint32_t kFirst = 20000, kCount = 12000;
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto port = static_cast<std::uint16_t>(kFirst + randombytes_uniform(kCount));
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error("socket() failed");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return port;
    }
    throw std::runtime_error("no free loopback port");
}

}  // namespace veil::directory
