#include "veil/crypto/key_agreement.hpp"

#include <sodium.h>

namespace veil::crypto {

KeyAgreement::~KeyAgreement() = default;

namespace {

class LocalKeyAgreement final : public KeyAgreement {
public:
    explicit LocalKeyAgreement(DhKeyPair keys) : keys_(std::move(keys)) {
        if (keys_.sec.size() != crypto_scalarmult_SCALARBYTES)
            throw Error(ErrorKind::invalid_argument, "x25519 secret must be 32 bytes");
    }
    const PublicKey& public_key() const noexcept override { return keys_.pub; }
    bool agree(const PublicKey& peer, std::span<std::uint8_t, 32> shared) const noexcept override {
        // libsodium returns -1 when the shared point is all zero (a low-order public key).
        if (crypto_scalarmult(shared.data(), keys_.sec.data(), peer.data()) == 0) return true;
        sodium_memzero(shared.data(), shared.size());
        return false;
    }

private:
    DhKeyPair keys_;
};

}  // namespace

std::shared_ptr<const KeyAgreement> make_key_agreement(DhKeyPair keys) {
    ensure_sodium();
    return std::make_shared<const LocalKeyAgreement>(std::move(keys));
}

}  // namespace veil::crypto
