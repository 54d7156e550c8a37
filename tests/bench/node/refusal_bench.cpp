// Cost of refusing junk at the node's port, as a ratio to serving a valid store, on a real
// 1-node testnet, measured in the same run as node CPU time (/proc/PID/stat) per request.
//   junk body:      a storage frame of 1000 bytes or 64 KiB of garbage (refused with bad_request)
//   oversized frame: a storage frame announcing 2 MiB (refused from its header, connection closed)
// Usage: [VEIL_BENCH_COUNT=3000] veil_bench_node_refusal
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

// The testnet fixture REQUIREs: the benchmark runs as one Catch test case.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support/node_rpc.hpp"
#include "support/raw_socket.hpp"
#include "support/testnet_fixture.hpp"

using namespace veil::proto::node;

namespace {

// utime + stime of `pid`, in seconds.
double cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) {
        rest >> f;
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("bench: refusing junk at the node's port / serving a store") {
    const char* n = std::getenv("VEIL_BENCH_COUNT");
    int count = n ? std::atoi(n) : 3000;
    veil::test::Testnet net(1, 1, {"requests_per_second=1000000", "request_burst=1000000"});
    auto port = net.ports()[0];
    int pid = net.pid_of("node-1");
    veil::test::NodeRpc rpc;

    auto t0 = cpu_seconds(pid);
    int stored = 0;
    for (int i = 0; i < count; ++i) {
        StoreRequest s;
        s.mailbox.fill(static_cast<std::uint8_t>(i));
        s.mailbox[1] = static_cast<std::uint8_t>(i >> 8);
        s.ttl_ms = 60'000;
        s.data.assign(1000, static_cast<std::uint8_t>(i));
        auto r = rpc.call(port, s);
        stored += r && r->status == Status::ok;
    }
    auto store_cpu = (cpu_seconds(pid) - t0) / count;

    auto junk_cost = [&](std::size_t bytes) {
        veil::wire::Bytes junk(bytes, 0xa5);
        auto start = cpu_seconds(pid);
        for (int i = 0; i < count; ++i) (void)rpc.ask(port, kStorageService, junk, 5000);
        return (cpu_seconds(pid) - start) / count;
    };
    auto small_cpu = junk_cost(1000);
    auto junk_cpu = junk_cost(64 << 10);

    t0 = cpu_seconds(pid);
    for (int i = 0; i < count; ++i) {
        veil::test::RawSocket s("127.0.9." + std::to_string(1 + i % 200), port);
        (void)s.send(veil::test::frame_start("storage", 2u << 20));
        (void)s.closed_by_peer(2000);
    }
    auto big_cpu = (cpu_seconds(pid) - t0) / count;

    std::printf("stores: %d/%d ok, node CPU %.1f us each\n", stored, count, store_cpu * 1e6);
    std::printf("junk 1000-byte body (as large as the store): node CPU %.1f us each, ratio to a store %.3f\n",
                small_cpu * 1e6, small_cpu / store_cpu);
    std::printf("junk 64 KiB body: node CPU %.1f us each, ratio to a store %.3f\n", junk_cpu * 1e6, junk_cpu / store_cpu);
    std::printf("oversized frame (connect, header, close): node CPU %.1f us each, ratio to a store %.3f\n", big_cpu * 1e6,
                big_cpu / store_cpu);
}
