// Bytes a client fetches per hour to keep a 2,000-node manifest fresh: asking with the version it
// holds (answers "current" or a diff, docs/admission.md §Refreshes) against fetching the whole
// manifest every time, when nothing changes and when 1% of the nodes change each period. Also the
// client's cost of applying and verifying a diff as a ratio to verifying the whole manifest
// (the same signature checks, so the ratio is the decode/rebuild overhead).
// Usage: veil_bench_node_manifest_refresh [nodes] [authorities] [refreshes_per_hour]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "manifest_history.hpp"
#include "veil/proto/manifest_diff.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/sdk/transport.hpp"

using namespace veil;
namespace rpc = proto::node;
using Clock = std::chrono::steady_clock;

namespace {

proto::NodeEntry random_node() {
    auto k = crypto::SigningKeyPair::generate();
    std::string host = "198." + std::to_string(randombytes_uniform(256)) + "." + std::to_string(randombytes_uniform(256)) +
                       "." + std::to_string(1 + randombytes_uniform(254));
    return {k.pub, crypto::ed25519_to_x25519(k.pub), host, static_cast<std::uint16_t>(20000 + randombytes_uniform(10000)),
            static_cast<proto::SwarmId>(randombytes_uniform(600)) << 54};
}

std::shared_ptr<const proto::SignedManifest> sign(std::uint64_t version, std::vector<proto::NodeEntry> nodes,
                                                  const std::vector<crypto::SigningKeyPair>& authorities) {
    proto::Manifest m;
    m.version = version;
    m.issued_ms = 1'700'000'000'000 + version * 60'000;
    m.valid_until_ms = m.issued_ms + 600'000;
    m.nodes = std::move(nodes);
    std::vector<const crypto::SigningKeyPair*> keys;
    for (const auto& a : authorities) keys.push_back(&a);
    return std::make_shared<const proto::SignedManifest>(proto::sign_manifest(m, keys));
}

// Bytes on the wire of one refresh (service request and response bodies; the 13-byte net frame
// headers each way are added too).
std::size_t refresh_bytes(std::optional<std::uint64_t> held, const rpc::ManifestResponse& answer) {
    constexpr std::size_t kFrames = 2 * 13;
    auto q = sdk::transport::encode_service_request(rpc::kStorageService, rpc::encode_request({1, rpc::GetManifestRequest{held}}));
    auto a = sdk::transport::encode_service_response(
        {sdk::transport::Status::ok, rpc::encode_response(rpc::Method::get_manifest, {1, rpc::Status::ok, answer})});
    return q.size() + a.size() + kFrames;
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
    std::size_t authority_count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 3;
    std::size_t per_hour = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 60;
    std::vector<crypto::SigningKeyPair> authorities;
    for (std::size_t i = 0; i < authority_count; ++i) authorities.push_back(crypto::SigningKeyPair::generate());
    std::vector<proto::NodeEntry> nodes;
    for (std::size_t i = 0; i < n; ++i) nodes.push_back(random_node());

    node::ManifestHistory history;
    auto v1 = sign(1, nodes, authorities);
    history.add(v1, v1->encode());
    std::size_t whole = refresh_bytes(std::nullopt, history.answer(std::nullopt));
    std::size_t current = refresh_bytes(1, history.answer(1));

    // 1% of the nodes change per period (one period per refresh): half leave, half join.
    std::size_t changes = std::max<std::size_t>(2, n / 100);
    std::size_t diff_total = 0, whole_total = 0;
    auto held = v1;
    double apply_s = 0, verify_whole_s = 0;
    for (std::size_t period = 0; period < per_hour; ++period) {
        for (std::size_t i = 0; i < changes / 2; ++i) {
            nodes.erase(nodes.begin() + static_cast<long>(randombytes_uniform(static_cast<std::uint32_t>(nodes.size()))));
            nodes.push_back(random_node());
        }
        auto next = sign(held->manifest.version + 1, nodes, authorities);
        history.add(next, next->encode());
        auto answer = history.answer(held->manifest.version);
        if (answer.kind != rpc::ManifestAnswer::diff) return std::puts("expected a diff"), 1;
        diff_total += refresh_bytes(held->manifest.version, answer);
        whole_total += refresh_bytes(std::nullopt, rpc::ManifestResponse{next->encode(), rpc::ManifestAnswer::full, {}});

        // The client's work: rebuild and verify, against decoding and verifying the whole one.
        std::vector<proto::PublicKey> keys;
        for (const auto& a : authorities) keys.push_back(a.pub);
        proto::ManifestVerifier verifier(keys, authority_count / 2 + 1);
        auto t = Clock::now();
        auto rebuilt = proto::apply_manifest_diff(*held, proto::decode_manifest_diff(answer.diff));
        bool ok_diff = verifier.check(rebuilt, rebuilt.manifest.issued_ms) == proto::ManifestCheck::ok;
        apply_s += std::chrono::duration<double>(Clock::now() - t).count();
        t = Clock::now();
        bool ok_whole = verifier.check(proto::decode_signed_manifest(next->encode()), next->manifest.issued_ms) == proto::ManifestCheck::ok;
        verify_whole_s += std::chrono::duration<double>(Clock::now() - t).count();
        if (!ok_diff || !ok_whole) return std::puts("verification failed"), 1;
        held = next;
    }
    std::printf("manifest: %zu nodes, %zu authority signatures, %zu refreshes an hour\n", n, authority_count, per_hour);
    std::printf("whole manifest per refresh: %zu bytes\n", whole);
    std::printf("nothing changed:  %zu bytes/hour asking with the version (%zu per refresh) vs %zu whole: ratio %.5f\n",
                current * per_hour, current, whole * per_hour, double(current) / double(whole));
    std::printf("1%% change/period: %zu bytes/hour by diffs (%zu per refresh) vs %zu whole: ratio %.4f\n", diff_total,
                diff_total / per_hour, whole_total, double(diff_total) / double(whole_total));
    std::printf("client cost: apply+verify a diff / decode+verify the whole manifest = %.2f\n", apply_s / verify_whole_s);
    return 0;
}
