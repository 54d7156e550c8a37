// Time from a node's first registration to its first listing in a signed consensus, on a local
// testnet of 3 authorities (real processes), as a ratio to the consensus period.
// The registrant answers the admission challenge at its address like a node (PlainListener with
// its key) and re-registers every second with every authority, as a node heart-beats.
// Usage: veil_bench_node_admission_delay [rounds]   (needs the veil binary and plugins built)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "support/challenge_listener.hpp"
#include "support/node_rpc.hpp"
#include "testnet.hpp"
#include "veil/proto/directory_rpc.hpp"
#include "veil/sdk/clock.hpp"

namespace fs = std::filesystem;
using namespace veil;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const std::string kVeil = std::string(VEIL_BINARY_DIR) + "/bin/veil";

std::uint16_t listen_port(const fs::path& toml) {
    std::ifstream in(toml);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    std::regex listen("listen = \"127\\.0\\.0\\.1:([0-9]+)\"");
    return std::regex_search(text, m, listen) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
}

// Whether the authority at `port` serves a consensus listing `key` (signatures as served).
bool listed(test::NodeRpc& rpc, std::uint16_t port, const proto::PublicKey& key) {
    auto r = rpc.exchange(port, proto::encode_directory_request({proto::DirectoryKind::get_manifest, {}, {}}));
    if (!r) return false;
    auto resp = proto::decode_directory_response(proto::DirectoryKind::get_manifest, r.value());
    if (resp.status != proto::DirectoryStatus::ok) return false;
    auto m = proto::decode_signed_manifest(resp.manifest);
    return m.signatures.size() >= 2 && m.manifest.find(key);
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::stoi(argv[1]) : 10;
    auto dir = fs::temp_directory_path() / ("veil-admission-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    if (std::system((kVeil + " testnet up --nodes 3 --authorities 3 --dir " + dir.string() + " > /dev/null").c_str()) != 0) {
        std::fprintf(stderr, "testnet up failed\n");
        return 1;
    }
    std::vector<std::uint16_t> authorities;
    for (int i = 1; i <= 3; ++i) authorities.push_back(listen_port(dir / ("authority-" + std::to_string(i)) / "veil.toml"));
    test::NodeRpc rpc;
    std::vector<double> delays;
    for (int round = 0; round < rounds; ++round) {
        auto key = crypto::SigningKeyPair::generate();
        test::PlainListener node("127.0.0.1", &key);
        auto started = Clock::now();
        auto next_beat = started;
        bool seen = false;
        while (!seen && Clock::now() - started < 30s) {
            if (Clock::now() >= next_beat) {
                proto::NodeDescriptor d{key.pub, crypto::ed25519_to_x25519(key.pub), "127.0.0.1", node.port(), sdk::now_ms()};
                auto signed_d = proto::sign_descriptor(d, key);
                for (auto port : authorities)
                    (void)rpc.exchange(port, proto::encode_directory_request({proto::DirectoryKind::register_node, signed_d, {}}));
                next_beat += 1s;
            }
            seen = listed(rpc, authorities[0], key.pub);
            if (!seen) std::this_thread::sleep_for(20ms);
        }
        if (!seen) {
            std::fprintf(stderr, "round %d: never listed\n", round);
            break;
        }
        delays.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
    }
    std::system((kVeil + " testnet down --dir " + dir.string() + " > /dev/null").c_str());
    fs::remove_all(dir);
    if (static_cast<int>(delays.size()) != rounds) return 1;
    double period = static_cast<double>(directory::kTestnetPeriodMs);
    std::printf("admission delay: registration to first listing in a consensus signed by 2 of 3 authorities, %d rounds\n", rounds);
    std::printf("  period %.0f ms; delay median %.0f ms (%.2f periods), p90 %.0f ms (%.2f), max %.0f ms (%.2f)\n", period,
                percentile(delays, 0.5), percentile(delays, 0.5) / period, percentile(delays, 0.9),
                percentile(delays, 0.9) / period, percentile(delays, 1.0), percentile(delays, 1.0) / period);
    return 0;
}
