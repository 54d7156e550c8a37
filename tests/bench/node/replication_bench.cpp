// Replication delay to the last swarm member on a local 3-node testnet (real processes), as a
// ratio to a plain RPC round trip (info) to a node measured in the same run.
// Usage: veil_bench_node_replication [rounds]   (needs the veil binary and plugins built)
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "support/node_rpc.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/sdk/net.hpp"

using namespace veil::proto::node;
namespace d = veil::proto;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const std::string kVeil = std::string(VEIL_BINARY_DIR) + "/bin/veil";

using Rpc = veil::test::NodeRpc;

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

}  // namespace

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::stoi(argv[1]) : 100;
    auto dir = fs::temp_directory_path() / ("veil-node-bench-net-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    if (std::system((kVeil + " testnet up --nodes 3 --swarm-size 3 --dir " + dir.string() + " > /dev/null").c_str()) != 0) {
        std::fprintf(stderr, "testnet up failed\n");
        return 1;
    }
    int rc = 1;
    {
        std::vector<std::uint16_t> ports;
        std::regex listen("listen = \"127\\.0\\.0\\.1:([0-9]+)\"");
        for (int i = 1; i <= 3; ++i) {
            std::ifstream in(dir / ("node-" + std::to_string(i)) / "veil.toml");
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::smatch m;
            if (std::regex_search(text, m, listen)) ports.push_back(static_cast<std::uint16_t>(std::stoi(m[1])));
        }
        Rpc rpc;
        veil::test::MailboxOwner mailbox;
        const auto& owner = mailbox.key;
        auto sign = [&](RequestBody b) { return mailbox.sign(std::move(b)); };
        // Wait until every node serves a manifest.
        for (auto p : ports)
            for (int i = 0; i < 100; ++i) {
                auto r = rpc.call(p, GetManifestRequest{});
                if (r && r->status == Status::ok) break;
                std::this_thread::sleep_for(100ms);
            }

        std::vector<double> rtt;
        Rpc rpc_info;  // its own connection: within the node's per-connection burst
        for (int i = 0; i < 150; ++i) {
            auto t = Clock::now();
            auto r = rpc_info.call(ports[0], InfoRequest{});
            if (!r || r->status != Status::ok) return 1;
            rtt.push_back(ms_between(t, Clock::now()));
        }

        std::vector<double> ack, delay;
        std::optional<Hash> cursor;
        Rpc rpc_b, rpc_c;
        for (int i = 0; i < rounds; ++i) {
            Clock::time_point seen_b{}, seen_c{};
            auto subscribe = [&](Rpc& r, std::uint16_t port, Clock::time_point& seen, RequestBody body) {
                auto resp = r.call(port, std::move(body), 15000);
                if (resp && resp->status == Status::ok && !std::get<PageResponse>(resp->body).messages.empty())
                    seen = Clock::now();
            };
            auto body_b = sign(SubscribeRequest{owner.pub, 0, PageQuery{cursor, 10, 1 << 20}, 10000, {}});
            auto body_c = sign(SubscribeRequest{owner.pub, 0, PageQuery{cursor, 10, 1 << 20}, 10000, {}});
            std::thread tb(subscribe, std::ref(rpc_b), ports[1], std::ref(seen_b), body_b);
            std::thread tc(subscribe, std::ref(rpc_c), ports[2], std::ref(seen_c), body_c);
            std::this_thread::sleep_for(30ms);  // both subscribes are parked
            std::string text = "round " + std::to_string(i);
            auto t0 = Clock::now();
            auto r = rpc.call(ports[0], StoreRequest{owner.pub, 0, 600'000, Bytes(text.begin(), text.end())});
            auto t_ack = Clock::now();
            tb.join();
            tc.join();
            if (!r || r->status != Status::ok || seen_b == Clock::time_point{} || seen_c == Clock::time_point{}) {
                std::fprintf(stderr, "round %d failed\n", i);
                break;
            }
            cursor = std::get<StoreResponse>(r->body).hash;
            ack.push_back(ms_between(t0, t_ack));
            delay.push_back(ms_between(t_ack, std::max(seen_b, seen_c)));
        }
        if (static_cast<int>(delay.size()) == rounds) {
            double rtt50 = percentile(rtt, 0.5);
            std::printf("service-node replication benchmark: 3-node swarm on loopback, %d rounds\n", rounds);
            std::printf("  info round trip (raw RPC)           median %7.3f ms\n", rtt50);
            std::printf("  store acknowledged                  median %7.3f ms   ratio %.1f\n", percentile(ack, 0.5),
                        percentile(ack, 0.5) / rtt50);
            std::printf("  delay after ack to the last member  median %7.3f ms   p90 %7.3f ms   ratio %.1f\n",
                        percentile(delay, 0.5), percentile(delay, 0.9), percentile(delay, 0.5) / rtt50);
            rc = 0;
        }
    }
    std::system((kVeil + " testnet down --dir " + dir.string() + " > /dev/null").c_str());
    fs::remove_all(dir);
    return rc;
}
