#pragma once
/// KeyAgreement: X25519 with a secret that stays inside the object. A service node hands one to
/// the co-located onion relay (sdk::node::GetKeyAgreement), so the relay can open the layers
/// sealed to the node's key without ever holding a copy of the secret. The implementation lives
/// in libveil-crypto (not in the plugin that made it), so its code outlives any plugin library.

#include <memory>
#include <span>

#include "veil/crypto/keys.hpp"

namespace veil::crypto {

/// An X25519 key-agreement capability. Immutable; agree() may be called from any thread.
class KeyAgreement {
public:
    virtual ~KeyAgreement();
    /// The X25519 public key that peers agree with.
    [[nodiscard]] virtual const PublicKey& public_key() const noexcept = 0;
    /// Writes X25519(secret, peer) to `shared`. False (and `shared` zeroed) when the result is
    /// all zero, i.e. `peer` is a low-order point.
    [[nodiscard]] virtual bool agree(const PublicKey& peer, std::span<std::uint8_t, 32> shared) const noexcept = 0;
};

/// The capability over `keys`, which it takes (the secret stays in guarded memory).
std::shared_ptr<const KeyAgreement> make_key_agreement(DhKeyPair keys);

}  // namespace veil::crypto
