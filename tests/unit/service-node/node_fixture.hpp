#pragma once
// Nodes of a two-swarm network in one process, without the kernel: each a StorageService over an
// in-memory store, called directly. For the service and catch-up unit tests.
#include <catch2/catch.hpp>

#include "veil/proto/swarm.hpp"
#include "service.hpp"

namespace veil::node::test {

using veil::proto::Manifest;
using veil::proto::NodeEntry;

inline constexpr std::uint64_t kNow = 1'700'000'000'000;
inline constexpr SwarmId kSwarmA = 0;
inline constexpr SwarmId kSwarmB = 1ULL << 63;

// Two swarms: A = {a1, a2} (and a3 when asked), B = {b1}; one authority.
struct Net {
    veil::crypto::SigningKeyPair authority = veil::crypto::SigningKeyPair::generate();
    veil::crypto::SigningKeyPair a1 = veil::crypto::SigningKeyPair::generate();
    veil::crypto::SigningKeyPair a2 = veil::crypto::SigningKeyPair::generate();
    veil::crypto::SigningKeyPair b1 = veil::crypto::SigningKeyPair::generate();
    veil::crypto::SigningKeyPair a3 = veil::crypto::SigningKeyPair::generate();
    Manifest manifest;
    Bytes envelope;

    explicit Net(bool with_a3 = false) {
        manifest.version = 1;
        manifest.valid_until_ms = UINT64_MAX;  // never expires: these tests are about other checks
        std::uint16_t port = 7000;
        std::vector<std::pair<veil::crypto::SigningKeyPair*, SwarmId>> nodes{{&a1, kSwarmA}, {&a2, kSwarmA}, {&b1, kSwarmB}};
        if (with_a3) nodes.emplace_back(&a3, kSwarmA);
        for (auto [k, swarm] : nodes)
            manifest.nodes.push_back(NodeEntry{k->pub, veil::crypto::ed25519_to_x25519(k->pub), "127.0.0.1", port++, swarm});
        std::vector<const veil::crypto::SigningKeyPair*> signers{&authority};
        envelope = veil::proto::sign_manifest(manifest, signers).encode();
    }
    veil::proto::ManifestVerifier verifier() const { return {{authority.pub}, 1}; }
    NodeEntry entry(const veil::crypto::SigningKeyPair& k) const {
        for (const auto& n : manifest.nodes)
            if (n.ed25519 == k.pub) return n;
        FAIL("not a node of the net");
        return {};
    }
};

// An owner key whose mailbox maps to the wanted swarm.
inline veil::crypto::SigningKeyPair owner_in(SwarmId swarm) {
    std::vector<SwarmId> ids{kSwarmA, kSwarmB};
    for (;;) {
        auto k = veil::crypto::SigningKeyPair::generate();
        if (veil::proto::swarm_for_mailbox(ids, k.pub) == swarm) return k;
    }
}

struct Node {
    MessageStore store;
    StorageService service;
    Node(const veil::crypto::SigningKeyPair& key, const Net& net, const Limits& limits = {})
        : store({":memory:", "", false}, limits), service(key, store, limits, net.verifier()) {
        REQUIRE(service.update_manifest(net.envelope, 0) == veil::proto::ManifestCheck::ok);
    }
    Outcome call(RequestBody body, std::uint64_t now = kNow) { return service.handle(Request{1, std::move(body)}, now); }
};

}  // namespace veil::node::test
