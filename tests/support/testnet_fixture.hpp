#pragma once
// `veil testnet up` in a fresh directory for one test, brought down at the end; node pids,
// ports, kill -9 and restart. Shared by the node, onion and messenger integration tests.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "veil/proto/manifest.hpp"
#include "veil/sdk/clock.hpp"

namespace veil::test {

namespace fs = std::filesystem;
namespace d = veil::proto;
using namespace std::chrono_literals;

inline const std::string kVeil = std::string(VEIL_BINARY_DIR) + "/bin/veil";

using sdk::now_ms;  // the SDK's one clock, as veil::test::now_ms

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A test network in a fresh directory, brought down at the end of the test.
class Testnet final {
public:
    Testnet(std::size_t nodes, std::size_t swarm_size, const std::vector<std::string>& node_options = {},
            const std::vector<std::string>& authority_options = {}) {
        static int counter = 0;
        dir_ = fs::temp_directory_path() / ("veil-node-it-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        fs::remove_all(dir_);
        auto cmd = kVeil + " testnet up --nodes " + std::to_string(nodes) + " --swarm-size " +
                   std::to_string(swarm_size) + options(node_options) + options(authority_options, "--authority-option") + " --dir " + dir_.string() + " > " + (dir_.string() + ".up.log") + " 2>&1";
        int rc = std::system(cmd.c_str());
        // `testnet up` picks a fresh port itself when another program takes one, so a failure
        // here is a real one: no retry.
        INFO(slurp(dir_.string() + ".up.log"));
        REQUIRE(rc == 0);
        for (int i = 1; fs::exists(dir_ / ("authority-" + std::to_string(i))); ++i) {
            auto pub = slurp(dir_ / ("authority-" + std::to_string(i)) / "directory" / "authority.pub").substr(0, 64);
            authorities_.push_back(veil::wire::to_array<32>(veil::wire::from_hex(pub)));
        }
        REQUIRE(!authorities_.empty());
        std::regex listen("listen = \"127\\.0\\.0\\.1:([0-9]+)\"");
        for (std::size_t i = 1; i <= nodes; ++i) {
            std::smatch m;
            auto text = slurp(dir_ / ("node-" + std::to_string(i)) / "veil.toml");
            REQUIRE(std::regex_search(text, m, listen));
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(m[1])));
        }
    }
    ~Testnet() {
        std::system((kVeil + " testnet down --dir " + dir_.string() + " > /dev/null 2>&1").c_str());
        fs::remove(dir_.string() + ".up.log");
        fs::remove_all(dir_);
    }
    Testnet(const Testnet&) = delete;
    Testnet& operator=(const Testnet&) = delete;

    const fs::path& dir() const { return dir_; }
    /// Every authority's key; a manifest counts when more than half of them signed it (any
    /// majority: one authority may sign later than the others).
    const std::vector<d::PublicKey>& authorities() const { return authorities_; }
    d::ManifestVerifier verifier() const { return d::ManifestVerifier(authorities_, authorities_.size() / 2 + 1); }
    const std::vector<std::uint16_t>& ports() const { return ports_; }
    std::string name_of(std::uint16_t port) const {
        for (std::size_t i = 0; i < ports_.size(); ++i)
            if (ports_[i] == port) return "node-" + std::to_string(i + 1);
        FAIL("unknown port");
        return {};
    }
    int pid_of(const std::string& name) const {
        std::ifstream in(dir_ / "testnet.pids");
        std::string n;
        int pid = 0;
        while (in >> n >> pid)
            if (n == name) return pid;
        return 0;
    }
    void kill9(const std::string& name) {
        int pid = pid_of(name);
        REQUIRE(pid > 0);
        REQUIRE(::kill(pid, SIGKILL) == 0);
        while (::kill(pid, 0) == 0 && fs::exists("/proc/" + std::to_string(pid) + "/cmdline") &&
               !slurp("/proc/" + std::to_string(pid) + "/cmdline").empty())
            std::this_thread::sleep_for(20ms);
    }
    // Starts a process again as `veil testnet up` did (or with another config), and records its
    // pid (a new name is added, so that `testnet down` stops it too).
    void restart(const std::string& name, const std::string& config_file = "veil.toml") {
        auto cfg = (dir_ / name / config_file).string();
        auto log = (dir_ / name / "veil.log").string();
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::setsid();
            int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execl(kVeil.c_str(), kVeil.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        std::vector<std::pair<std::string, int>> pids;
        bool known = false;
        {
            std::ifstream in(dir_ / "testnet.pids");
            std::string n;
            int p = 0;
            while (in >> n >> p) {
                known = known || n == name;
                pids.emplace_back(n, n == name ? pid : p);
            }
        }
        if (!known) pids.emplace_back(name, pid);
        std::ofstream out(dir_ / "testnet.pids", std::ios::trunc);
        for (const auto& [n, p] : pids) out << n << " " << p << "\n";
    }

private:
    static std::string options(const std::vector<std::string>& values, const std::string& flag = "--node-option") {
        std::string out;
        for (const auto& o : values) out += " " + flag + " " + o;
        return out;
    }
    fs::path dir_;
    std::vector<d::PublicKey> authorities_;
    std::vector<std::uint16_t> ports_;
};

}  // namespace veil::test
