#pragma once
/// Sealed-sender envelopes. A service node sees only: recipient mailbox key, namespace, TTL and a
/// ciphertext whose size is one of the padding buckets. Sender certificate and the ratchet
/// message (its header included) are inside, encrypted to the recipient device's X25519 key with
/// a fresh ephemeral key: HKDF(DH(e, R), salt = e_pub || R, "Veil_SealedSender_v1") -> key||nonce.

#include <array>
#include <cstdint>

#include "veil/crypto/device.hpp"

namespace veil::crypto {

/// Ciphertext sizes a node can observe; content larger than the last is Error{too_large}.
inline constexpr std::array<std::size_t, 12> envelope_buckets = {
    512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576};
/// Longest TTL a node accepts (DESIGN §4).
inline constexpr std::uint64_t max_envelope_ttl_ms = 14ULL * 24 * 3600 * 1000;

/// What travels through the network and sits in a swarm.
struct SealedEnvelope final {
    PublicKey mailbox{};          ///< recipient mailbox key (the device's X25519 key)
    std::uint16_t namespace_id = 0;
    std::uint64_t ttl_ms = 0;
    Bytes ciphertext;             ///< exactly one bucket long

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed} (bad version, TTL above the maximum, size not a bucket).
    static SealedEnvelope decode(ByteView bytes);
};

/// What the recipient finds inside.
struct OpenedEnvelope final {
    DeviceCertificate sender;  ///< unverified: check against the claimed ID before use
    Bytes message;             ///< an encoded CipherMessage
};

/// Seals message from sender for the device whose X25519 key is recipient_dh_key.
SealedEnvelope seal(const DeviceCertificate& sender, ByteView message,
                    const PublicKey& recipient_dh_key, const PublicKey& mailbox,
                    std::uint16_t namespace_id, std::uint64_t ttl_ms);
/// Opens an envelope addressed to recipient. Throws Error{decrypt_failed} or Error{malformed}.
OpenedEnvelope open(const SealedEnvelope& envelope, const DhKeyPair& recipient);

}  // namespace veil::crypto
