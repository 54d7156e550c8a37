// Scale runs (issue 16): `--hosts` testnets of 9, 27 and 54 nodes (VEIL_SCALE_SIZES=9,27 to
// choose): time for `up`, memory per node, and send->receive latency p50/p99 beside the floor
// measured in the same run (8 link crossings: 4 round trips of one request to a node through its
// link emulator). [slow]: run by hand (docs/scaling.md has the figures).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/hosts_testnet.hpp"
#include "support/node_rpc.hpp"

using namespace veil::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kDelayMs = 20;
constexpr int kMessages = 20;

std::vector<std::size_t> sizes() {
    const char* env = std::getenv("VEIL_SCALE_SIZES");
    std::stringstream in(env ? env : "9,27,54");
    std::vector<std::size_t> out;
    for (std::string part; std::getline(in, part, ',');) out.push_back(std::stoul(part));
    return out;
}

// Resident memory of a process in MiB (VmRSS); 0 when it is gone.
double rss_mib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

TEST_CASE("chaos scale - 9, 27, 54 nodes: start time, memory per node, latency beside the floor",
          "[chaos][integration][slow]") {
    if (hosts_skipped()) return;
    for (auto nodes : sizes()) {
        const auto t0 = std::chrono::steady_clock::now();
        HostsTestnet net(nodes, 1, {"--delay", std::to_string(kDelayMs)});
        const auto up_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double rss = 0;
        std::size_t counted = 0;
        std::string name;
        int pid = 0;
        for (std::ifstream pids(net.dir() / "testnet.pids"); pids >> name >> pid;)
            if (name.rfind("node-", 0) == 0) {
                rss += rss_mib(pid);
                ++counted;
            }
        // The floor: one request to a node through its link emulator is 2 crossings.
        NodeRpc rpc;
        rpc.host = net.address_of("node-1");
        std::vector<double> rtt;
        for (int i = 0; i < 20; ++i) {
            auto s = std::chrono::steady_clock::now();
            REQUIRE(rpc.call(7800, veil::proto::node::InfoRequest{}));
            rtt.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
        }
        const double floor_ms = 4 * percentile(rtt, 0.5);

        ChatPair chat(net);
        auto latency = chat.timed_messages(kMessages);
        std::cout << "scale " << nodes << " nodes: up " << up_s << " s, memory " << (counted ? rss / static_cast<double>(counted) : 0)
                  << " MiB per node (" << rss << " MiB in all), latency over " << kDelayMs << " ms links ("
                  << latency.size() << " of " << kMessages << " messages): p50 " << percentile(latency, 0.5) << " ms, p99 "
                  << percentile(latency, 0.99) << " ms; floor " << floor_ms << " ms (4 x " << percentile(rtt, 0.5)
                  << " ms measured); p50/floor " << percentile(latency, 0.5) / floor_ms << std::endl;
        CHECK(latency.size() == static_cast<std::size_t>(kMessages));
    }
}
