#pragma once
// One service node alone in swarm 0 and its authority's signed manifest naming it: what the node
// benchmarks drive their StorageService with.
#include "veil/crypto/keys.hpp"
#include "veil/proto/manifest.hpp"

namespace veil::bench {

struct LoneNode {
    crypto::SigningKeyPair authority = crypto::SigningKeyPair::generate();
    crypto::SigningKeyPair key = crypto::SigningKeyPair::generate();

    /// The signed manifest (StorageService::update_manifest).
    [[nodiscard]] wire::Bytes manifest_envelope() const {
        proto::Manifest m;
        m.version = 1;
        m.valid_until_ms = UINT64_MAX;  // never expires: these tests are about other checks
        m.nodes.push_back(proto::NodeEntry{key.pub, crypto::ed25519_to_x25519(key.pub), "127.0.0.1", 1, 0});
        std::vector<const crypto::SigningKeyPair*> signers{&authority};
        return proto::sign_manifest(m, signers).encode();
    }
    [[nodiscard]] proto::ManifestVerifier verifier() const { return proto::ManifestVerifier({authority.pub}, 1); }
};

}  // namespace veil::bench
