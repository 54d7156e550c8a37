// Two resident clients (`veil chat`, i.e. the messenger's resident core) on a local 9-node
// testnet, from one run: send-to-receive latency p50/p99 through the onion transport and through
// the direct transport (the raw limit of this machine's network path: ratio onion/direct), and
// messages per second sustained in a burst. A line typed into Alice's chat is timed until Bob's
// chat prints it: encryption, fan-out, store in every member of Bob's swarm, Bob's long-poll
// wake-up, retrieve, decrypt, save, delete.
// Usage: veil_bench_messenger_resident [ROUNDS] [BURST]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/veil_id.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kVeil = veil::test::veil_exe();

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void sh(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

// `veil chat PEER` on pipes; waits read on from where the last one matched.
class Chat final {
public:
    Chat(const fs::path& home, const std::string& peer, const fs::path& err)
        : process_({"--home", home.string(), "chat", peer}, err) {}
    void type(const std::string& text) {
        if (!process_.write_stdin(text)) throw std::runtime_error("write");
    }
    // Reads until `needle` was printed after the last match; throws after 60 s.
    void wait_for(const std::string& needle) {
        if (!process_.wait_for(needle, 60'000, seen_)) throw std::runtime_error("timed out waiting for: " + needle);
        seen_ = process_.output().find(needle, seen_) + needle.size();
    }
    void end() {
        process_.close_stdin();
        process_.wait_exit(60'000);
    }

private:
    veil::test::Interactive process_;
    std::size_t seen_ = 0;
};

void use_transport(const fs::path& home, const std::string& transport) {
    auto text = slurp(home / "veil.toml");
    text = std::regex_replace(text, std::regex("'(onion|direct)'"), "'" + transport + "'");
    text = std::regex_replace(text, std::regex("\"(onion|direct)\""), "\"" + transport + "\"");
    std::ofstream(home / "veil.toml") << text;
}

struct Figures {
    double p50 = 0, p99 = 0, rate = 0;
};

double pct(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

Figures measure(const fs::path& dir, const std::string& transport, const std::string& alice_id,
                const std::string& bob_id, int rounds, int burst) {
    for (const char* who : {"alice", "bob"}) use_transport(dir / who, transport);
    Chat bob(dir / "bob", alice_id, dir / ("bob-" + transport + ".err"));
    Chat alice(dir / "alice", bob_id, dir / ("alice-" + transport + ".err"));
    for (int i = 0; i < 200 && (slurp(dir / ("bob-" + transport + ".err")).find("chatting") == std::string::npos ||
                                slurp(dir / ("alice-" + transport + ".err")).find("chatting") == std::string::npos);
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Warm-up: sessions exist, Bob's long-poll is parked.
    alice.type("warm-up " + transport + "\n");
    bob.wait_for("warm-up " + transport + "\n");
    std::vector<double> lat;
    for (int i = 0; i < rounds; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto text = transport + " ping " + std::to_string(i) + "\n";
        double t0 = now_ms();
        alice.type(text);
        bob.wait_for(text);
        lat.push_back(now_ms() - t0);
    }
    std::string lines;
    for (int i = 0; i < burst; ++i) lines += transport + " burst " + std::to_string(i) + "\n";
    double t0 = now_ms();
    alice.type(lines);
    bob.wait_for(transport + " burst " + std::to_string(burst - 1) + "\n");
    double spent = now_ms() - t0;
    alice.end();
    bob.end();
    return {pct(lat, 0.5), pct(lat, 0.99), burst * 1000.0 / spent};
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);  // a chat that ended shows as a failed write, not a dead benchmark
    int rounds = argc > 1 ? std::atoi(argv[1]) : 30;
    int burst = argc > 2 ? std::atoi(argv[2]) : 100;
    fs::path dir = fs::temp_directory_path() / ("veil-bench-resident-" + std::to_string(getpid()));
    try {
        sh(kVeil + " testnet up --nodes 9 --swarm-size 3 --dir " + dir.string() + " > /dev/null 2>&1");
        auto init = [&](const std::string& who) {
            sh(kVeil + " init --home " + (dir / who).string() + " --network " + (dir / "network.toml").string() +
               " > " + (dir / (who + ".init")).string() + " 2>&1");
            auto id = veil::test::veil_id_in(slurp(dir / (who + ".init")));
            if (id.empty()) throw std::runtime_error("init");
            return id;
        };
        auto alice = init("alice"), bob = init("bob");
        sh(kVeil + " --home " + (dir / "bob").string() + " contacts add " + alice + " Alice > /dev/null");
        auto direct = measure(dir, "direct", alice, bob, rounds, burst);
        auto onion = measure(dir, "onion", alice, bob, rounds, burst);
        std::printf("resident clients (veil chat, Alice to Bob): %d timed messages, then a burst of %d; 9 nodes, swarms of 3\n",
                    rounds, burst);
        std::printf("  direct: p50 %7.1f ms  p99 %7.1f ms  %6.1f msg/s sustained\n", direct.p50, direct.p99, direct.rate);
        std::printf("  onion:  p50 %7.1f ms  p99 %7.1f ms  %6.1f msg/s sustained\n", onion.p50, onion.p99, onion.rate);
        std::printf("ratio onion/direct: p50 %.2f  p99 %.2f  throughput %.2f\n", onion.p50 / direct.p50,
                    onion.p99 / direct.p99, onion.rate / direct.rate);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench failed: %s (logs in %s)\n", e.what(), dir.c_str());
        std::system((kVeil + " testnet down --dir " + dir.string() + " > /dev/null 2>&1").c_str());
        return 1;
    }
    std::system((kVeil + " testnet down --dir " + dir.string() + " > /dev/null 2>&1").c_str());
    fs::remove_all(dir);
    return 0;
}
