// The price of strangers' stores (docs/service-node.md §Pricing strangers' stores), as ratios to
// the raw BLAKE2b hash rate measured in the same run:
//   - a sender's cost at 0/25/50/75/90 % of the quota (solved for real; 99 % computed),
//   - an attacker's total cost to fill one mailbox's envelope namespace from empty,
//   - the node's cost to verify a proof vs to serve a valid store (decode + rules + SQLite WAL).
// Usage: veil_bench_node_work [solves per level, default 3]
#include <sodium.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "lone_node.hpp"
#include "service.hpp"
#include "veil/proto/store_work.hpp"

using namespace veil::node;
using Clock = std::chrono::steady_clock;
namespace d = veil::proto;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;
constexpr std::uint64_t kTtl = 14ULL * 24 * 3600 * 1000;  // the messenger's envelope TTL

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Raw BLAKE2b-256 of a 100-byte input (the work hash's size), hashes per second.
double raw_hash_rate() {
    std::array<std::uint8_t, 108> in{};
    std::array<std::uint8_t, 32> out{};
    constexpr int kN = 2'000'000;
    auto t = Clock::now();
    for (int i = 0; i < kN; ++i) {
        in[107] = static_cast<std::uint8_t>(i);
        in[106] = static_cast<std::uint8_t>(i >> 8);
        crypto_generichash(out.data(), out.size(), in.data(), in.size(), nullptr, 0);
    }
    if (out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0) std::puts("");  // keep the loop
    return kN / seconds_since(t);
}

MailboxFill at(const Limits& l, double fraction) {
    return {static_cast<std::uint64_t>(fraction * static_cast<double>(l.max_messages_per_mailbox)), 0,
            l.max_messages_per_mailbox, l.max_bytes_per_mailbox};
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    const int solves = argc > 1 ? std::atoi(argv[1]) : 3;
    const Limits limits;
    const double rate = raw_hash_rate();
    std::printf("raw BLAKE2b (108-byte input): %.2f M hashes/s on one core\n", rate / 1e6);

    // A sender's cost: a 2 KiB sealed envelope, 14-day TTL.
    std::printf("\nsender, 2 KiB envelope, 14-day TTL (solved %d times per level):\n", solves);
    for (double level : {0.0, 0.2, 0.25, 0.5, 0.75, 0.9}) {
        auto work = required_store_work(limits.work, at(limits, level), 2048, kTtl);
        double spent = 0;
        for (int i = 0; i < solves && work > 0; ++i) {
            StoreRequest q{{}, 0, kTtl, Bytes(2048, static_cast<std::uint8_t>(i))};
            q.mailbox.fill(static_cast<std::uint8_t>(level * 100));
            auto t = Clock::now();
            if (!solve_store_work(q, work)) return 1;
            spent += seconds_since(t);
        }
        double mean_s = work > 0 ? spent / solves : 0;
        std::printf("  %3.0f %% full: work %12llu hashes = %8.4f s at the raw rate; solved in %8.4f s mean "
                    "(%.2f x the raw-rate estimate)\n",
                    level * 100, static_cast<unsigned long long>(work), static_cast<double>(work) / rate, mean_s,
                    work > 0 ? mean_s / (static_cast<double>(work) / rate) : 0.0);
    }
    for (double level : {0.99, 0.9999}) {
        auto work = required_store_work(limits.work, at(limits, level), 2048, kTtl);
        std::printf("  %6.2f %% full: work %.3g hashes = %.3g s at the raw rate (not solved)\n", level * 100,
                    static_cast<double>(work), static_cast<double>(work) / rate);
    }

    // The attacker: 10,000 distinct 1 KiB envelopes with a 14-day TTL into one mailbox, from empty.
    std::printf("\nattacker filling one mailbox's namespace 0 from empty (1 KiB, 14-day TTL), one node:\n");
    double total = 0;
    for (std::uint64_t held = 0; held < limits.max_messages_per_mailbox; ++held) {
        MailboxFill f{held, held * 1024, limits.max_messages_per_mailbox, limits.max_bytes_per_mailbox};
        total += static_cast<double>(required_store_work(limits.work, f, 1024, kTtl));
        auto next = held + 1;
        if (next * 4 == limits.max_messages_per_mailbox || next * 2 == limits.max_messages_per_mailbox ||
            next * 10 == limits.max_messages_per_mailbox * 9 || next * 100 == limits.max_messages_per_mailbox * 99 ||
            next == limits.max_messages_per_mailbox - 1 || next == limits.max_messages_per_mailbox) {
            std::printf("  to %5llu messages (%6.2f %%): %.3g hashes = %.3g core-seconds at the raw rate (%.3g core-days)\n",
                        static_cast<unsigned long long>(next),
                        100.0 * static_cast<double>(next) / static_cast<double>(limits.max_messages_per_mailbox), total,
                        total / rate, total / rate / 86400);
        }
    }

    // The node: a valid (free) store through the handlers vs verifying one proof.
    const veil::bench::LoneNode node;
    auto path = std::filesystem::temp_directory_path() / ("veil-work-bench-" + std::to_string(::getpid()) + ".db");
    {
        MessageStore store({path.string(), "", false}, limits);
        StorageService service(node.key, store, limits, node.verifier());
        if (service.update_manifest(node.manifest_envelope(), 0) != d::ManifestCheck::ok) return 1;
        constexpr int kStores = 2000;
        std::vector<Bytes> frames;
        for (int i = 0; i < kStores; ++i) {
            StoreRequest q{{}, 0, kTtl, Bytes(2048, static_cast<std::uint8_t>(i))};
            q.mailbox.fill(static_cast<std::uint8_t>(i));
            q.mailbox[1] = static_cast<std::uint8_t>(i >> 8);  // a mailbox each: all free
            frames.push_back(encode_request(Request{static_cast<std::uint32_t>(i), q}));
        }
        auto t = Clock::now();
        for (const auto& f : frames)
            if (service.handle(decode_request(f), kNow).response.status != Status::ok) return 1;
        double store_s = seconds_since(t) / kStores;

        StoreRequest q{{}, 0, kTtl, Bytes(2048, 7)};
        q.work = StoreWork{kNow, 1};
        auto hash = message_hash(q.mailbox, q.ns, q.data);
        constexpr int kVerifies = 200'000;
        int met = 0;
        t = Clock::now();
        for (int i = 0; i < kVerifies; ++i) {
            q.work->nonce = static_cast<std::uint64_t>(i);
            met += store_work_meets(q, hash, 1 << 20) ? 1 : 0;
        }
        double verify_s = seconds_since(t) / kVerifies;
        std::printf("\nnode: valid store through the handlers %.1f us; one proof verified %.3f us "
                    "(verify / store = %.4f; verify = %.2f x one raw hash; %d of %d random nonces met 2^20)\n",
                    store_s * 1e6, verify_s * 1e6, verify_s / store_s, verify_s * rate, met, kVerifies);
    }
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + ext);
    return 0;
}
