#pragma once
/// `veil testnet up --hosts`: every process of the test network in its own network namespace,
/// with its own address in its own /24, all joined by veth pairs to one bridge in the root
/// namespace. Layout (PREFIX is 10.X, X picked free on this machine):
///   bridge  vb<TAG>, address PREFIX.0.1/16 in the root namespace (so that a client on the machine
///           itself reaches every host through that route)
///   host i  namespace veil-<TAG>-<name>, eth0 = PREFIX.i.2/24, plus an on-link route to the
///           whole PREFIX.0.0/16: every host is on one Ethernet segment, so no IP forwarding is
///           switched on anywhere (the machine's sysctls stay as they are).
/// Everything created is written to DIR/hosts.state BEFORE it is created, so that `testnet down`
/// removes it all, also after `up` crashed half-way. Needs root (CAP_NET_ADMIN) and `ip`.

#include <filesystem>
#include <string>
#include <vector>

namespace veil::directory {

/// One host of a test network: its namespace and its address.
struct Host {
    std::string name;     ///< "authority-1", "node-3", "client-1"
    std::string netns;    ///< "veil-<TAG>-<name>"
    std::string address;  ///< "10.X.i.2"
};

/// The hosts' network of the testnet in DIR.
class HostsNet final {
public:
    /// A new bridge and address range for DIR; throws with `ip`'s message when it fails.
    static HostsNet create(const std::filesystem::path& dir);
    /// The network already made in DIR (from DIR/hosts.state); throws when there is none.
    static HostsNet open(const std::filesystem::path& dir);
    /// True when DIR has a hosts network recorded (perhaps half made).
    static bool exists(const std::filesystem::path& dir);
    /// Removes every namespace, link and bridge recorded in DIR/hosts.state, then the file.
    /// Missing pieces are skipped; returns how many were removed.
    static std::size_t remove(const std::filesystem::path& dir);

    /// A new host with subnet `index` (1..254): namespace, veth pair on the bridge, address.
    Host add(const std::string& name, unsigned index);
    /// Takes host `name`'s veth on the bridge side down (a partition: its namespace keeps its
    /// addresses and routes, nothing crosses) or up again. Throws when there is no such host.
    void set_link_up(const std::string& name, bool up) const;
    /// The hosts made so far, in order.
    [[nodiscard]] std::vector<Host> hosts() const;
    /// "10.X": the first two bytes of every address.
    [[nodiscard]] const std::string& prefix() const { return prefix_; }
    /// The bridge's name in the root namespace.
    [[nodiscard]] std::string bridge() const { return "vb" + tag_; }

private:
    HostsNet(std::filesystem::path dir, std::string tag, std::string prefix)
        : dir_(std::move(dir)), tag_(std::move(tag)), prefix_(std::move(prefix)) {}
    void record(const std::string& line) const;
    /// The bridge side of the veth pair of the host in subnet `index`.
    [[nodiscard]] std::string veth(unsigned index) const { return "v" + tag_ + "-" + std::to_string(index); }
    std::filesystem::path dir_;
    std::string tag_, prefix_;
};

/// Runs `ip ARGS` and throws with its output when it fails.
void run_ip(const std::string& args);

/// Enters the network namespace `netns` (in a child before exec); false when it cannot.
bool enter_netns_fd(int fd);
/// Opens /run/netns/<netns> for enter_netns_fd; -1 when missing.
int open_netns(const std::string& netns);

}  // namespace veil::directory
