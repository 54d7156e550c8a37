// A node's resident memory while it holds 100,000 messages (docs/small-devices.md), on a real
// 1-node testnet: VmRSS idle and after the fill, against the database's own size on disk measured
// in the same run (the raw floor of what holding the messages costs).
// Usage: [VEIL_BENCH_COUNT=100000] [VEIL_BENCH_BYTES=1024] veil_bench_node_rss
#include <cstdio>
#include <filesystem>
#include <fstream>

// The testnet fixture REQUIREs: the benchmark runs as one Catch test case.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support/node_rpc.hpp"
#include "support/testnet_fixture.hpp"

using namespace veil::proto::node;
namespace fs = std::filesystem;

namespace {

double rss_mib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

double database_mib(const fs::path& node_dir) {
    double total = 0;
    for (const auto& e : fs::recursive_directory_iterator(node_dir)) {
        auto name = e.path().filename().string();
        if (name.rfind("messages.db", 0) == 0) total += static_cast<double>(fs::file_size(e.path()));
    }
    return total / (1024.0 * 1024.0);
}

int env_or(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : fallback;
}

}  // namespace

TEST_CASE("bench: a node's RSS holding N messages / the database on disk") {
    const int count = env_or("VEIL_BENCH_COUNT", 100'000);
    const int bytes = env_or("VEIL_BENCH_BYTES", 1024);
    // 1,000 messages a mailbox: within its quota and below the share that asks strangers for work.
    veil::test::Testnet net(1, 1, {"requests_per_second=1000000", "request_burst=1000000"});
    auto port = net.ports()[0];
    int pid = net.pid_of("node-1");
    veil::test::NodeRpc rpc;
    REQUIRE(rpc.call(port, InfoRequest{}));
    const double idle = rss_mib(pid);

    int stored = 0;
    for (int i = 0; i < count; ++i) {
        StoreRequest s;
        auto box = static_cast<std::uint32_t>(i / 1000);
        for (int b = 0; b < 4; ++b) s.mailbox[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(box >> (8 * b));
        s.mailbox[31] = 0x5a;
        s.ns = kEnvelopeNamespace;
        s.ttl_ms = 3'600'000;
        s.data.assign(static_cast<std::size_t>(bytes), 0);
        for (int b = 0; b < 4; ++b) s.data[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(i >> (8 * b));
        auto r = rpc.call(port, s);
        stored += r && r->status == Status::ok;
    }
    const double full = rss_mib(pid);
    const double db = database_mib(net.dir() / "node-1");
    std::printf("messages stored      %d of %d (%d bytes each)\n", stored, count, bytes);
    std::printf("node RSS idle        %.1f MiB\n", idle);
    std::printf("node RSS holding     %.1f MiB (+%.1f MiB)\n", full, full - idle);
    std::printf("database on disk     %.1f MiB (with its WAL)\n", db);
    std::printf("ratio (RSS growth / database) %.2f\n", db > 0 ? (full - idle) / db : 0.0);
    CHECK(stored == count);
    CHECK(rpc.close() == 0);
}
