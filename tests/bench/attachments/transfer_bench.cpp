// Attachment upload/download throughput on a local 12-node testnet (real `veil` processes):
// through the onion transport (three relays) as a ratio to the direct transport (one hop, the
// raw limit of the same store and client), measured in the same run. Each transfer is one
// `veil attachment` process, so the figure includes process start and manifest loading; the
// same run also times a 1-byte upload to show that fixed cost.
// Usage: veil_attachments_transfer_bench [MB] [ROUNDS]   (not run by ctest)

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kVeil = std::string(VEIL_BINARY_DIR) + "/bin/veil";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs a shell command; returns its wall time in seconds, or -1 when it failed.
double timed(const std::string& cmd) {
    auto t = Clock::now();
    int rc = std::system(cmd.c_str());
    double s = std::chrono::duration<double>(Clock::now() - t).count();
    return rc == 0 ? s : -1;
}

fs::path client(const fs::path& dir, const std::string& name, const std::string& transport) {
    auto home = dir / name;
    fs::create_directories(home);
    auto network = slurp(dir / "net" / "network.toml");
    network = network.substr(network.find("[network]"));
    std::ofstream(home / "veil.toml") << "[kernel]\nplugins = [\"network\", \"" << transport
                                      << "\", \"attachments\", \"cli\"]\nlog_level = \"error\"\nhome = \"" << home.string()
                                      << "\"\n\n" << network << "\n[attachments]\nprocessors = []\n";
    return home;
}

struct Figures {
    double up_s = 1e9, down_s = 1e9, tiny_s = 1e9;
};

bool measure(const fs::path& dir, const fs::path& home, const fs::path& file, const fs::path& tiny, int rounds, Figures& f) {
    auto cfg = "'" + kVeil + "' --config '" + (home / "veil.toml").string() + "' ";
    for (int r = 0; r < rounds; ++r) {
        auto ref = dir / "ref.json";
        double up = timed(cfg + "attachment upload '" + file.string() + "' > '" + ref.string() + "'");
        double down = timed(cfg + "attachment download '" + ref.string() + "' '" + (home / "got").string() + "' > /dev/null");
        double tiny_up = timed(cfg + "attachment upload '" + tiny.string() + "' > /dev/null");
        if (up < 0 || down < 0 || tiny_up < 0) return false;
        f.up_s = std::min(f.up_s, up);
        f.down_s = std::min(f.down_s, down);
        f.tiny_s = std::min(f.tiny_s, tiny_up);
        fs::remove_all(home / "got");
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    const std::size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    auto dir = fs::temp_directory_path() / ("veil-att-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    if (std::system(("'" + kVeil + "' testnet up --nodes 12 --swarm-size 3 --dir '" + (dir / "net").string() + "' > '" +
                     (dir / "up.log").string() + "' 2>&1").c_str()) != 0) {
        std::fprintf(stderr, "testnet up failed: %s\n", slurp(dir / "up.log").c_str());
        return 1;
    }
    std::string bytes(mb * 1000 * 1000, '\0');
    randombytes_buf(bytes.data(), bytes.size());
    std::ofstream(dir / "file.bin", std::ios::binary) << bytes;
    std::ofstream(dir / "tiny.bin", std::ios::binary) << "x";
    auto onion_home = client(dir, "onion", "onion");
    auto direct_home = client(dir, "direct", "direct");
    Figures onion, direct;
    // Warm-up (manifest cached, stores ready), then the two transports measured in turn.
    bool ok = measure(dir, onion_home, dir / "file.bin", dir / "tiny.bin", 1, onion) &&
              measure(dir, direct_home, dir / "file.bin", dir / "tiny.bin", 1, direct);
    onion = direct = Figures{};
    for (int r = 0; ok && r < rounds; ++r)
        ok = measure(dir, onion_home, dir / "file.bin", dir / "tiny.bin", 1, onion) &&
             measure(dir, direct_home, dir / "file.bin", dir / "tiny.bin", 1, direct);
    std::system(("'" + kVeil + "' testnet down --dir '" + (dir / "net").string() + "' > /dev/null 2>&1").c_str());
    fs::remove_all(dir);
    if (!ok) {
        std::fprintf(stderr, "a transfer failed\n");
        return 1;
    }
    const double m = static_cast<double>(bytes.size()) / 1e6;
    std::printf("%.1f MB file, best of %d, one process per transfer (1-byte upload: onion %.0f ms, direct %.0f ms)\n", m,
                rounds, onion.tiny_s * 1e3, direct.tiny_s * 1e3);
    std::printf("upload:   onion %6.1f MB/s (%4.0f ms)  direct %6.1f MB/s (%4.0f ms)  onion/direct %.2f\n", m / onion.up_s,
                onion.up_s * 1e3, m / direct.up_s, direct.up_s * 1e3, direct.up_s / onion.up_s);
    std::printf("download: onion %6.1f MB/s (%4.0f ms)  direct %6.1f MB/s (%4.0f ms)  onion/direct %.2f\n", m / onion.down_s,
                onion.down_s * 1e3, m / direct.down_s, direct.down_s * 1e3, direct.down_s / onion.down_s);
    return 0;
}
