// Stores a second while a swarm member floods summary requests (catch-up), with every summary read
// from the whole store (summary_max_age_ms = 0, as before) and with one copy per second (the
// default), against stores a second with no flood, all in the same run.
// Usage: veil_bench_node_summary [states] [seconds]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <thread>

#include "service.hpp"
#include "veil/proto/swarm.hpp"

using namespace veil::node;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;

struct Result {
    double stores_per_s = 0;
    double summaries_per_s = 0;
};

Result run(std::size_t states, double seconds, bool flood, std::uint64_t summary_max_age_ms) {
    auto authority = veil::crypto::SigningKeyPair::generate();
    auto me = veil::crypto::SigningKeyPair::generate();
    auto peer = veil::crypto::SigningKeyPair::generate();
    veil::proto::Manifest manifest;
    manifest.version = 1;
    manifest.valid_until_ms = std::numeric_limits<std::uint64_t>::max();  // never expires in the bench
    for (auto* k : {&me, &peer})
        manifest.nodes.push_back({k->pub, veil::crypto::ed25519_to_x25519(k->pub), "127.0.0.1", 7000, 0});
    std::vector<const veil::crypto::SigningKeyPair*> signers{&authority};
    Limits limits;
    limits.max_messages_per_mailbox = states * 4;
    limits.max_bytes_per_mailbox = states * 4 * 256;
    limits.work.free_fraction = 1;  // unpriced: the bench measures the store path
    limits.node_work_free_fraction = 1;
    limits.peer_requests_per_second = 1e9;
    limits.peer_request_burst = 1e9;
    limits.summary_max_age_ms = summary_max_age_ms;
    MessageStore store(StoreOptions{":memory:", "", false}, limits);
    StorageService service(me, store, limits, veil::proto::ManifestVerifier{{authority.pub}, 1});
    service.update_manifest(veil::proto::sign_manifest(manifest, signers).encode(), 0);
    PublicKey mailbox{};
    mailbox[0] = 1;
    std::uint32_t counter = 0;
    auto store_one = [&] {
        ++counter;
        Bytes data(200, 0);
        for (int i = 0; i < 4; ++i) data[i] = static_cast<std::uint8_t>(counter >> (8 * i));
        return service.handle(Request{1, StoreRequest{mailbox, 0, 600'000, data}}, kNow).response.status == Status::ok;
    };
    for (std::size_t i = 0; i < states; ++i) store_one();
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> summaries{0};
    std::thread flooder([&] {
        for (std::uint64_t i = 1; flood && !stop.load(); ++i) {
            auto env = seal_peer(SummaryBody{0}, peer, me.pub, kNow + i);
            if (service.handle(Request{2, PeerRequest{env}}, kNow + i).response.status == Status::ok) ++summaries;
        }
    });
    std::size_t stored = 0;
    auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) stored += store_one() ? 1 : 0;
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    flooder.join();
    return {double(stored) / took, double(summaries.load()) / took};
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t states = argc > 1 ? std::stoul(argv[1]) : 50'000;
    const double seconds = argc > 2 ? std::stod(argv[2]) : 3;
    auto quiet = run(states, seconds, false, 1000);
    auto before = run(states, seconds, true, 0);
    auto after = run(states, seconds, true, 1000);
    std::printf("store of %zu states, %.0f s each\n", states, seconds);
    std::printf("no flood:                          %8.0f stores/s\n", quiet.stores_per_s);
    std::printf("flood, every summary reads all:    %8.0f stores/s, %6.0f summaries/s\n", before.stores_per_s, before.summaries_per_s);
    std::printf("flood, one summary copy a second:  %8.0f stores/s, %6.0f summaries/s\n", after.stores_per_s, after.summaries_per_s);
    std::printf("stores under flood / no flood: before %.2f, after %.2f; after / before %.1f x\n",
                before.stores_per_s / quiet.stores_per_s, after.stores_per_s / quiet.stores_per_s,
                after.stores_per_s / before.stores_per_s);
    return 0;
}
