// A consensus of 2,000 nodes from 3 authorities' votes: the manifest's size, the time to form
// and sign it, and a client's verification time as a ratio to the raw Ed25519 verifications it
// needs (threshold 2 of 3), measured in the same run. Usage: veil_bench_directory [nodes] [rounds]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "consensus.hpp"

using namespace veil::directory;
using Clock = std::chrono::steady_clock;

namespace {
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    std::size_t count = argc > 1 ? std::stoul(argv[1]) : 2000;
    int rounds = argc > 2 ? std::stoi(argv[2]) : 20;
    std::vector<VotedNode> nodes;
    for (std::size_t i = 0; i < count; ++i) {
        auto k = veil::crypto::SigningKeyPair::generate();
        nodes.push_back({k.pub, veil::crypto::ed25519_to_x25519(k.pub), "203.0.113." + std::to_string(i % 250),
                         static_cast<std::uint16_t>(20000 + i)});
    }
    std::sort(nodes.begin(), nodes.end());
    std::vector<veil::crypto::SigningKeyPair> auth;
    for (int i = 0; i < 3; ++i) auth.push_back(veil::crypto::SigningKeyPair::generate());
    std::vector<Vote> votes;
    std::size_t vote_bytes = 0;
    for (const auto& a : auth) {
        votes.push_back({100, a.pub, nodes});
        vote_bytes = sign_vote(votes.back(), a).size();
    }
    ConsensusParams params;
    params.authority_count = 3;

    auto t = Clock::now();
    SignedManifest signed_manifest;
    for (int r = 0; r < rounds; ++r) {
        auto m = form_consensus(votes, 100, nullptr, params);
        std::vector<const veil::crypto::SigningKeyPair*> signers{&auth[0], &auth[1], &auth[2]};
        signed_manifest = sign_manifest(m, signers);
    }
    double form_ms = ms_since(t) / rounds;
    auto envelope = signed_manifest.encode();

    std::vector<PublicKey> keys{auth[0].pub, auth[1].pub, auth[2].pub};
    t = Clock::now();
    for (int r = 0; r < rounds; ++r) {
        ManifestVerifier v(keys, 2);
        auto m = decode_signed_manifest(envelope);
        if (v.check(m, params.validity_ms) != ManifestCheck::ok) return 2;
    }
    double verify_ms = ms_since(t) / rounds;
    // The raw limit: the 3 Ed25519 verifications over the same signed bytes (all signatures present).
    auto bytes = manifest_signed_bytes(signed_manifest.body);
    t = Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& [pk, sig] : signed_manifest.signatures)
            if (!veil::crypto::verify_signature(pk, bytes, sig)) return 3;
    double raw_ms = ms_since(t) / rounds;

    std::printf("consensus of %zu nodes, 3 authorities: vote %zu bytes, manifest %zu bytes (%.0f bytes/node)\n", count,
                vote_bytes, envelope.size(), double(envelope.size()) / double(count));
    std::printf("form + sign (3 keys): %.2f ms\n", form_ms);
    std::printf("client decode + verify: %.2f ms = %.2f x the raw Ed25519 verifications (%.2f ms)\n", verify_ms,
                verify_ms / raw_ms, raw_ms);
    return 0;
}
