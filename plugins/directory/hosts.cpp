#include "hosts.hpp"

#include <sodium.h>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace veil::directory {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStateFile = "hosts.state";

// Runs a shell command line; its exit code and what it printed (stdout and stderr).
int run(const std::string& cmd, std::string& out) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    char buf[512];
    while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    return ::pclose(p);
}

std::string ip_output(const std::string& args) {
    std::string out;
    run("ip " + args, out);
    return out;
}

// A second byte X for 10.X.0.0/16 that no address or route of this machine uses yet.
std::string free_prefix() {
    auto used = ip_output("-4 addr") + ip_output("-4 route") + ip_output("-4 route show table all");
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto prefix = "10." + std::to_string(64 + randombytes_uniform(128));
        if (used.find(" " + prefix + ".") == std::string::npos && used.find("\n" + prefix + ".") == std::string::npos &&
            used.rfind(prefix + ".", 0) != 0)
            return prefix;
    }
    throw std::runtime_error("no free 10.X.0.0/16 range for the hosts' network");
}

std::vector<std::pair<std::string, std::string>> read_state(const fs::path& dir) {
    std::vector<std::pair<std::string, std::string>> out;
    std::ifstream in(dir / kStateFile);
    std::string line;
    while (std::getline(in, line)) {
        auto sp = line.find(' ');
        if (sp != std::string::npos) out.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
    return out;
}

}  // namespace

void run_ip(const std::string& args) {
    std::string out;
    if (run("ip " + args, out) != 0) throw std::runtime_error("ip " + args + ": " + out);
}

HostsNet HostsNet::create(const fs::path& dir) {
    if (exists(dir)) throw std::runtime_error("a hosts network is already recorded in " + (dir / kStateFile).string());
    unsigned char raw[3];
    randombytes_buf(raw, sizeof raw);
    char tag[7];
    std::snprintf(tag, sizeof tag, "%02x%02x%02x", raw[0], raw[1], raw[2]);
    HostsNet net(dir, tag, free_prefix());
    net.record("tag " + net.tag_);
    net.record("prefix " + net.prefix_);
    const std::string bridge = net.bridge();
    net.record("link " + bridge);
    run_ip("link add " + bridge + " type bridge");
    run_ip("addr add " + net.prefix_ + ".0.1/16 dev " + bridge);
    run_ip("link set " + bridge + " up");
    return net;
}

HostsNet HostsNet::open(const fs::path& dir) {
    std::string tag, prefix;
    for (const auto& [kind, value] : read_state(dir)) {
        if (kind == "tag") tag = value;
        if (kind == "prefix") prefix = value;
    }
    if (tag.empty() || prefix.empty()) throw std::runtime_error("no hosts network in " + dir.string() + " (testnet up --hosts)");
    return HostsNet(dir, tag, prefix);
}

bool HostsNet::exists(const fs::path& dir) { return fs::exists(dir / kStateFile); }

std::size_t HostsNet::remove(const fs::path& dir) {
    std::size_t removed = 0;
    auto state = read_state(dir);
    // Hosts' veth pairs and namespaces first, the bridge last (in reverse order of creation).
    for (auto it = state.rbegin(); it != state.rend(); ++it) {
        std::string out;
        if (it->first == "link" && run("ip link del " + it->second, out) == 0) ++removed;
        if (it->first == "netns" && run("ip netns del " + it->second, out) == 0) ++removed;
    }
    fs::remove(dir / kStateFile);
    return removed;
}

void HostsNet::record(const std::string& line) const {
    std::ofstream out(dir_ / kStateFile, std::ios::app);
    out << line << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + (dir_ / kStateFile).string());
}

Host HostsNet::add(const std::string& name, unsigned index) {
    if (index < 1 || index > 254) throw std::runtime_error("host subnet index out of range");
    Host h{name, "veil-" + tag_ + "-" + name, prefix_ + "." + std::to_string(index) + ".2"};
    const std::string link = veth(index);  // at most 15 characters
    record("netns " + h.netns);
    run_ip("netns add " + h.netns);
    record("link " + link);
    run_ip("link add " + link + " type veth peer name eth0 netns " + h.netns);
    run_ip("link set " + link + " master " + bridge() + " up");
    run_ip("-n " + h.netns + " addr add " + h.address + "/24 dev eth0");
    run_ip("-n " + h.netns + " link set lo up");
    run_ip("-n " + h.netns + " link set eth0 up");
    run_ip("-n " + h.netns + " route add " + prefix_ + ".0.0/16 dev eth0");
    record("host " + name + " " + h.netns + " " + h.address);
    return h;
}

void HostsNet::set_link_up(const std::string& name, bool up) const {
    for (const auto& h : hosts()) {
        if (h.name != name) continue;
        // The subnet index is the address's third byte (PREFIX.i.2).
        auto third = h.address.substr(prefix_.size() + 1);
        run_ip("link set " + veth(static_cast<unsigned>(std::stoul(third.substr(0, third.find('.'))))) +
               (up ? " up" : " down"));
        return;
    }
    throw std::runtime_error("no host " + name + " in " + (dir_ / kStateFile).string());
}

std::vector<Host> HostsNet::hosts() const {
    std::vector<Host> out;
    for (const auto& [kind, value] : read_state(dir_)) {
        if (kind != "host") continue;
        std::istringstream in(value);
        Host h;
        in >> h.name >> h.netns >> h.address;
        out.push_back(h);
    }
    return out;
}

int open_netns(const std::string& netns) { return ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC); }

bool enter_netns_fd(int fd) { return fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0; }

}  // namespace veil::directory
