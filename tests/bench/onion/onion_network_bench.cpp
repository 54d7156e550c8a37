// Onion routing on a real local testnet (9 node processes, 3 swarms), from one run:
//  - latency of a storage RPC (info) through three relays, as a ratio to the same RPC sent
//    straight to the node over the direct transport;
//  - throughput with 64 requests in flight, onion and direct, and their ratio.
// Usage: veil_bench_onion_network [requests]   (run from the build tree: needs bin/veil)
#include <sodium.h>
#include <spdlog/sinks/null_sink.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "direct_transport.hpp"
#include "onion_rig.hpp"
#include "veil/proto/node_rpc.hpp"

using namespace veil;
namespace fs = std::filesystem;
namespace tr = sdk::transport;
using Clock = std::chrono::steady_clock;

namespace {

using Sender = std::function<void(const tr::Request&, std::function<void(sdk::Result<tr::Response>)>)>;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Runs the loop until `done`.
void run_until(uv_loop_t* loop, const std::function<bool()>& done) {
    while (!done()) uv_run(loop, UV_RUN_ONCE);
}

tr::Request info_request(const proto::NodeEntry& n, std::uint32_t id) {
    tr::Request r;
    r.to = {wire::to_hex(n.ed25519), n.host + ":" + std::to_string(n.port)};
    r.service = "storage";
    r.body = proto::node::encode_request({id, proto::node::InfoRequest{}});
    r.timeout_ms = 10'000;
    return r;
}

// Sequential round trips: sorted latencies in ms.
std::vector<double> latencies(uv_loop_t* loop, const Sender& send, const proto::NodeEntry& target, int n) {
    std::vector<double> out;
    for (int i = 0; i < n; ++i) {
        bool done = false;
        auto t = Clock::now();
        send(info_request(target, static_cast<std::uint32_t>(i)), [&](sdk::Result<tr::Response> r) {
            if (!r || r.value().status != tr::Status::ok) std::fprintf(stderr, "request failed\n");
            done = true;
        });
        run_until(loop, [&] { return done; });
        out.push_back(ms_since(t));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Requests per second with `window` in flight, over `total` requests.
double throughput(uv_loop_t* loop, const Sender& send, const std::vector<proto::NodeEntry>& targets, int total,
                  int window) {
    int started = 0, finished = 0, failed = 0;
    std::function<void()> launch = [&] {
        auto& target = targets[static_cast<std::size_t>(started) % targets.size()];
        send(info_request(target, static_cast<std::uint32_t>(started)), [&](sdk::Result<tr::Response> r) {
            if (!r) ++failed;
            ++finished;
            if (started < total) launch();
        });
        ++started;
    };
    auto t = Clock::now();
    for (int i = 0; i < window && started < total; ++i) launch();
    run_until(loop, [&] { return finished == total; });
    if (failed) std::fprintf(stderr, "%d of %d requests failed\n", failed, total);
    return total / (ms_since(t) / 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    int requests = argc > 1 ? std::atoi(argv[1]) : 300;
    fs::path exe = fs::canonical("/proc/self/exe").parent_path();
    while (!exe.empty() && !fs::exists(exe / "bin" / "veil")) exe = exe.parent_path();
    std::string veil = (exe / "bin" / "veil").string();
    fs::path dir = fs::temp_directory_path() / ("veil-onion-bench-" + std::to_string(::getpid()));
    std::string up = veil + " testnet up --nodes 9 --swarm-size 3 --node-option requests_per_second=1e6" +
                     " --node-option request_burst=1e6 --dir " + dir.string() + " > /dev/null";
    if (std::system(up.c_str()) != 0) {
        std::fprintf(stderr, "testnet up failed\n");
        return 1;
    }
    {
        test::OnionRig rig(dir);
        uv_loop_t* loop = rig.loop();
        const auto& manifest = rig.manifest();
        sdk::Bus bus(loop);
        direct::DirectTransport direct_transport(loop, bus, {},
                                                 std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
        Sender via_onion = [&](const tr::Request& r, auto done) { rig.client().send(r, std::move(done)); };
        Sender via_direct = [&](const tr::Request& r, auto done) { direct_transport.send(r, std::move(done)); };

        const auto& target = manifest.nodes.back();
        latencies(loop, via_onion, target, 20);  // warm up connections and the guard
        latencies(loop, via_direct, target, 20);
        auto onion_lat = latencies(loop, via_onion, target, requests);
        auto direct_lat = latencies(loop, via_direct, target, requests);
        auto pct = [](const std::vector<double>& v, double p) { return v[static_cast<std::size_t>(p * (v.size() - 1))]; };
        std::printf("storage RPC (info) latency over %d sequential requests, 9-node testnet on loopback\n", requests);
        std::printf("  direct : p50 %.3f ms  p99 %.3f ms\n", pct(direct_lat, 0.5), pct(direct_lat, 0.99));
        std::printf("  onion  : p50 %.3f ms  p99 %.3f ms   ratio p50 %.1fx  p99 %.1fx\n", pct(onion_lat, 0.5),
                    pct(onion_lat, 0.99), pct(onion_lat, 0.5) / pct(direct_lat, 0.5),
                    pct(onion_lat, 0.99) / pct(direct_lat, 0.99));

        int total = requests * 10;
        double onion_rps = throughput(loop, via_onion, manifest.nodes, total, 64);
        double direct_rps = throughput(loop, via_direct, manifest.nodes, total, 64);
        std::printf("64 in flight, %d requests: direct %.0f req/s, onion %.0f req/s (ratio %.2f; each onion request "
                    "costs 3 relay hops + 1 delivery on the same 2 cores)\n",
                    total, direct_rps, onion_rps, onion_rps / direct_rps);
        direct_transport.close();
        bus.close();
        uv_run(loop, UV_RUN_NOWAIT);
    }
    std::system((veil + " testnet down --dir " + dir.string() + " > /dev/null").c_str());
    fs::remove_all(dir);
    return 0;
}
