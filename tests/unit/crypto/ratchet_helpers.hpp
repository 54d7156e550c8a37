#pragma once
// A pair of ratchet sessions as X3DH would leave them, for the ratchet tests.

#include "veil/crypto/ratchet.hpp"

namespace veil::crypto::test {

struct RatchetPair {
    RatchetSession alice;
    RatchetSession bob;
};

inline RatchetPair make_ratchet_pair() {
    auto sk = SecretBytes::random(32);
    Bytes ad(64, 0xad);
    auto bob_spk = DhKeyPair::generate();
    auto alice = RatchetSession::initiate(sk, ad, bob_spk.pub);
    auto bob = RatchetSession::respond(sk, ad, std::move(bob_spk));
    return {std::move(alice), std::move(bob)};
}

inline std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

inline bool same_state(const RatchetSession& a, const SecretBytes& snapshot) {
    return a.serialize().equals(snapshot.view());
}

}  // namespace veil::crypto::test
