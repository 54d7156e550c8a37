#pragma once
// `veil testnet up --hosts` for one test (plugins/directory/hosts.hpp): every authority and node
// in its own network namespace and /24, clients in namespaces of their own (`add-host`), and
// `testnet down` at the end. Needs root; `unavailable()` says why not, so that the test can skip.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <chrono>
#include <fstream>
#include <memory>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/veil_id.hpp"
#include "support/testnet_fixture.hpp"

namespace veil::test {

class HostsTestnet final {
public:
    /// Why namespaces cannot be made here (not root, no `ip`), or nullopt when they can.
    static std::optional<std::string> unavailable() {
        auto name = "veil-probe-" + std::to_string(::getpid());
        auto bridge = "vpb" + std::to_string(::getpid());
        auto made = run({"/bin/sh", "-c",
                         "ip netns add " + name + " && ip netns del " + name + " && ip link add " + bridge +
                             " type bridge && ip link del " + bridge},
                        {}, 10000);
        if (made.exit_code == 0) return std::nullopt;
        return "cannot create a network namespace and a bridge (needs root and iproute2): " + made.out + made.err;
    }

    /// `testnet up --hosts --nodes N --authorities A` plus `extra` arguments (--delay MS, ...).
    HostsTestnet(std::size_t nodes, std::size_t authorities, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"testnet", "up", "--hosts", "--nodes", std::to_string(nodes), "--authorities",
                                      std::to_string(authorities), "--dir", dir_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_veil(args, {}, 120000);
        up_output_ = r.out + r.err;
        INFO(up_output_);
        if (r.exit_code != 0) down();
        REQUIRE(r.exit_code == 0);
        for (std::size_t i = 1; i <= authorities; ++i) {
            auto pub = slurp(dir_ / ("authority-" + std::to_string(i)) / "directory" / "authority.pub").substr(0, 64);
            authorities_.push_back(veil::wire::to_array<32>(veil::wire::from_hex(pub)));
        }
        tag_ = state_value("tag");
        REQUIRE(!tag_.empty());
    }
    ~HostsTestnet() { down(); }
    HostsTestnet(const HostsTestnet&) = delete;
    HostsTestnet& operator=(const HostsTestnet&) = delete;

    const fs::path& dir() const { return dir_; }
    const std::string& up_output() const { return up_output_; }
    /// The network's namespaces all start with "veil-<tag>-".
    const std::string& tag() const { return tag_; }
    /// "10.X": every host's address starts with it.
    std::string prefix() const { return state_value("prefix"); }
    d::ManifestVerifier verifier() const { return d::ManifestVerifier(authorities_, authorities_.size() / 2 + 1); }
    /// The address of host `name` ("node-3", "client-1").
    std::string address_of(const std::string& name) const {
        std::ifstream in(dir_ / "hosts.state");
        std::string kind, n, netns, address;
        while (in >> kind) {
            if (kind == "host" && in >> n >> netns >> address && n == name) return address;
            if (kind != "host") std::getline(in, n);
        }
        return {};
    }

    /// A client's own namespace on the network (`veil testnet add-host`); returns its name.
    std::string add_host(const std::string& name) {
        auto r = run_veil({"testnet", "add-host", "--name", name, "--dir", dir_.string()}, {}, 30000);
        INFO(r.out + r.err);
        REQUIRE(r.exit_code == 0);
        REQUIRE(r.out.rfind("netns ", 0) == 0);
        return r.out.substr(6, r.out.find('\n') - 6);
    }
    /// `veil testnet VERB --name NAME` (kill, restart, cut, heal; plugins/directory/testnet_faults.hpp)
    /// plus `extra` (--clock-offset SECONDS); REQUIREs that it worked.
    void fault(const std::string& verb, const std::string& name, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"testnet", verb, "--name", name, "--dir", dir_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_veil(args, {}, 30000);
        INFO(r.out + r.err);
        REQUIRE(r.exit_code == 0);
    }
    /// `veil ARGS` run inside namespace `netns`.
    static Interactive::Program in(const std::string& netns, const std::vector<std::string>& args) {
        std::vector<std::string> argv{"/usr/bin/env", "ip", "netns", "exec", netns, veil_exe()};
        argv.insert(argv.end(), args.begin(), args.end());
        return {argv};
    }
    /// Runs `veil ARGS` inside namespace `netns` to the end.
    static ProcessResult run_in(const std::string& netns, const std::vector<std::string>& args, int timeout_ms = 60000) {
        return run(in(netns, args).argv, {}, timeout_ms);
    }
    /// The namespaces of this network that exist now.
    std::size_t namespaces_left() const {
        auto r = run({"/usr/bin/env", "ip", "netns", "list"}, {}, 10000);
        std::size_t n = 0;
        for (std::size_t at = 0; (at = r.out.find("veil-" + tag_ + "-", at)) != std::string::npos; ++at) ++n;
        return n;
    }
    void down() {
        if (down_) return;
        down_ = true;
        run_veil({"testnet", "down", "--dir", dir_.string()}, {}, 60000);
    }

private:
    std::string state_value(const std::string& key) const {
        std::ifstream in(dir_ / "hosts.state");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
        return {};
    }
    TempDir dir_holder_;
    fs::path dir_ = dir_holder_.path() / "net";
    std::string up_output_, tag_;
    std::vector<d::PublicKey> authorities_;
    bool down_ = false;
};

/// True (after saying so) when this machine cannot make network namespaces: the case is skipped
/// (ctest sees "SKIPPED: ").
inline bool hosts_skipped() {
    auto why = HostsTestnet::unavailable();
    if (!why) return false;
    std::cout << "SKIPPED: " << *why << std::endl;
    WARN("SKIPPED: " << *why);
    return true;
}

/// A new identity in HOME, made inside namespace `netns` (empty: on the machine itself); its ID.
inline std::string init_person(const HostsTestnet& net, const std::string& netns, const fs::path& home) {
    std::vector<std::string> args{"init", "--home", home.string(), "--network", (net.dir() / "network.toml").string()};
    auto r = netns.empty() ? run_veil(args, {}, 60000) : HostsTestnet::run_in(netns, args);
    INFO(r.out + r.err);
    REQUIRE(r.exit_code == 0);
    auto id = veil_id_in(r.out);
    REQUIRE(id.size() == 66);
    return id;
}

/// Alice and Bob, each in a namespace of their own (client-a, client-b), each the other's contact,
/// in `veil chat` with each other; Alice's first message ("warm-up", which sets up the session and
/// the long-polls) has reached Bob's screen.
struct ChatPair {
    explicit ChatPair(HostsTestnet& net) {
        auto ns_a = net.add_host("client-a");
        auto ns_b = net.add_host("client-b");
        auto alice = net.dir() / "alice";
        auto bob = net.dir() / "bob";
        auto alice_id = init_person(net, ns_a, alice);
        auto bob_id = init_person(net, ns_b, bob);
        REQUIRE(HostsTestnet::run_in(ns_b, {"--home", bob.string(), "contacts", "add", alice_id, "Alice"}).exit_code == 0);
        REQUIRE(HostsTestnet::run_in(ns_a, {"--home", alice.string(), "contacts", "add", bob_id, "Bob"}).exit_code == 0);
        a = std::make_unique<Interactive>(HostsTestnet::in(ns_a, {"--home", alice.string(), "chat", bob_id}),
                                          net.dir() / "alice-chat.err");
        b = std::make_unique<Interactive>(HostsTestnet::in(ns_b, {"--home", bob.string(), "chat", alice_id}),
                                          net.dir() / "bob-chat.err");
        REQUIRE(a->type("warm-up"));
        INFO(read_file(net.dir() / "bob-chat.err"));
        REQUIRE(b->wait_for("Alice: warm-up\n", 60000));
    }
    /// Alice sends "m 0".."m N-1", each once the one before is on Bob's screen; the time from
    /// typing to Bob's screen of each, in ms. Stops at the first that does not arrive in 30 s.
    std::vector<double> timed_messages(int n) {
        std::vector<double> ms;
        for (int i = 0; i < n; ++i) {
            auto text = "m " + std::to_string(i);
            auto t0 = std::chrono::steady_clock::now();
            REQUIRE(a->type(text));
            if (!b->wait_for("Alice: " + text + "\n", 30000)) break;
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        return ms;
    }
    std::unique_ptr<Interactive> a, b;  ///< Alice's and Bob's chat
};

/// How many times `needle` occurs in `text`.
inline std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
    return n;
}

}  // namespace veil::test
