// What a junk peer frame costs a node, as ratios measured in the same run: the handler's time to
// refuse a 16 MiB peer envelope from a non-member, to check (decode + verify) the same from a
// member, to take a member's batch of 1,000 forged owner proofs, and to serve one valid 256-byte
// store. Usage: veil_bench_node_peer_refusal [rounds]
#include <chrono>
#include <cstdio>
#include <string>

#include "service.hpp"
#include "veil/proto/swarm.hpp"

using namespace veil::node;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000'000;

template <class F>
double ms_per_call(int rounds, F&& f) {
    auto t = Clock::now();
    for (int i = 0; i < rounds; ++i) f(i);
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count() / rounds;
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::stoi(argv[1]) : 20;
    auto authority = veil::crypto::SigningKeyPair::generate();
    auto me = veil::crypto::SigningKeyPair::generate();
    auto member = veil::crypto::SigningKeyPair::generate();
    auto stranger = veil::crypto::SigningKeyPair::generate();
    veil::proto::Manifest m;
    m.version = 1;
    m.valid_until_ms = UINT64_MAX;  // never expires: these tests are about other checks
    for (const auto* k : {&me, &member})
        m.nodes.push_back({k->pub, veil::crypto::ed25519_to_x25519(k->pub), "127.0.0.1", 7000, 0});
    std::vector<const veil::crypto::SigningKeyPair*> signers{&authority};
    Limits limits;
    limits.peer_bytes_per_second = 1e12;  // measure the checks, not the budget
    limits.peer_byte_burst = 1e12;
    MessageStore store({":memory:", "", false}, limits);
    StorageService svc(me, store, limits, veil::proto::ManifestVerifier({authority.pub}, 1));
    if (svc.update_manifest(veil::proto::sign_manifest(m, signers).encode(), 0) != veil::proto::ManifestCheck::ok) return 1;

    std::vector<ReplicaOp> ops;
    for (int i = 0; i < 15; ++i) ops.push_back(ReplicaOp{MessageState{}, Bytes(kMaxDataBytes, 7)});
    // Requests built up front: copying 16 MiB is the framing's cost, not the handler's.
    const Request junk{1, PeerRequest{seal_peer(ReplicateBody{ops}, stranger, me.pub, kNow)}};
    double refuse_ms = ms_per_call(rounds, [&](int) {
        if (svc.handle(junk, kNow).response.status != Status::unauthorized) std::exit(1);
    });
    std::vector<Request> signed_requests;
    for (int i = 0; i < rounds; ++i)
        signed_requests.push_back(Request{1, PeerRequest{seal_peer(ReplicateBody{ops}, member, me.pub, kNow)}});
    double check_ms = ms_per_call(rounds, [&](int i) {
        if (svc.handle(signed_requests[static_cast<std::size_t>(i)], kNow).response.status != Status::ok) std::exit(1);
    });
    // A member's batch of 1,000 ops, each with its own forged delete proof (about 200 KB).
    auto owner = veil::crypto::SigningKeyPair::generate();
    std::vector<ReplicaOp> forged;
    for (int i = 0; i < 1000; ++i) {
        Hash h{};
        h[0] = static_cast<std::uint8_t>(i);
        h[1] = static_cast<std::uint8_t>(i >> 8);
        RequestBody del = DeleteRequest{owner.pub, 0, {h}, {}};
        sign_owner_request(del, owner, kNow + static_cast<std::uint64_t>(i));
        std::get<DeleteRequest>(del).auth.signature = stranger.sign(owner_signed_bytes(del));
        forged.push_back(ReplicaOp{MessageState{h, owner.pub, 0, kNow + 60'000, true}, std::nullopt,
                                   std::make_shared<const Bytes>(encode_owner_proof(del))});
    }
    std::vector<Request> forged_requests;
    for (int i = 0; i < rounds; ++i)
        forged_requests.push_back(Request{1, PeerRequest{seal_peer(ReplicateBody{forged}, member, me.pub, kNow)}});
    auto checks_before = svc.replica_signature_checks();
    double forged_ms = ms_per_call(rounds, [&](int i) {
        if (svc.handle(forged_requests[static_cast<std::size_t>(i)], kNow).response.status != Status::ok) std::exit(1);
    });
    double forged_checks = static_cast<double>(svc.replica_signature_checks() - checks_before) / rounds;
    double store_ms = ms_per_call(rounds * 50, [&](int i) {
        Bytes data(256, 0);
        std::snprintf(reinterpret_cast<char*>(data.data()), data.size(), "message %d", i);
        if (svc.handle(Request{1, StoreRequest{me.pub, 0, 60'000, data}}, kNow).response.status != Status::ok) std::exit(1);
    });
    std::printf("service-node peer refusal benchmark: %zu-byte peer envelopes, %d rounds\n",
                std::get<PeerRequest>(junk.body).envelope.size(), rounds);
    std::printf("  refuse, non-member        %10.4f ms\n", refuse_ms);
    std::printf("  decode + verify, member   %10.4f ms\n", check_ms);
    std::printf("  1,000 forged proofs       %10.4f ms (%.0f owner signature checks a batch)\n", forged_ms, forged_checks);
    std::printf("  serve a 256 B store       %10.4f ms\n", store_ms);
    std::printf("  forged batch / store      %10.3f\n", forged_ms / store_ms);
    std::printf("  refusal / member check    %10.5f\n", refuse_ms / check_ms);
    std::printf("  refusal / valid store     %10.3f\n", refuse_ms / store_ms);
    return 0;
}
