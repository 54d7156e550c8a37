#pragma once
/// Pre-keys of one device: a signed pre-key (expiring, rotated) and a batch of one-time pre-keys
/// with ids, each signed by the device key over the identity key and the device key, so a
/// pre-key verifies only under the identity that certified its device (identity -> device
/// certificate -> pre-key).

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "veil/crypto/device.hpp"

namespace veil::crypto {

/// The public signed pre-key.
struct SignedPreKey final {
    std::uint32_t id = 0;
    PublicKey key{};
    std::uint64_t expires_ms = 0;
    Signature signature{};  ///< by the device signing key, over identity, device and the fields
    friend bool operator==(const SignedPreKey&, const SignedPreKey&) = default;
};

/// A public one-time pre-key.
struct OneTimePreKey final {
    std::uint32_t id = 0;
    PublicKey key{};
    Signature signature{};  ///< by the device signing key, over identity, device and the fields
    friend bool operator==(const OneTimePreKey&, const OneTimePreKey&) = default;
};

/// What a device publishes to its identity's swarm so others can start sessions offline.
struct PreKeyBundle final {
    static constexpr std::size_t max_one_time_keys = 200;

    DeviceCertificate certificate;
    SignedPreKey signed_prekey;
    std::vector<OneTimePreKey> one_time_prekeys;

    /// Verifies the chain: the certificate against id, then the signed pre-key (signature by the
    /// certified device over the certificate's identity and device key, not expired at now_ms)
    /// and every one-time key's signature likewise. Throws Error on the first fault.
    void verify(const VeilId& id, std::uint64_t now_ms) const;
    /// Same, and the device must be active in the identity's device list (Error{revoked}).
    void verify(const VeilId& id, const DeviceList& list, std::uint64_t now_ms) const;
    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed} (also for version 1, from before identity binding). Does not verify.
    static PreKeyBundle decode(ByteView bytes);
};

/// The device's private pre-key material. Not thread-safe; serialize() for storage.
class PreKeyStore final {
public:
    /// How long a previous signed pre-key still answers after rotation.
    static constexpr std::uint64_t signed_prekey_grace_ms = 7ULL * 24 * 3600 * 1000;
    /// How long a used one-time key still answers. Bundles sit in swarms, not on a server that
    /// hands each key out once, so two senders may pick the same key before the owner
    /// republishes; the second one's first message must still open.
    static constexpr std::uint64_t used_one_time_grace_ms = 7ULL * 24 * 3600 * 1000;
    /// Used one-time keys kept for their grace period at most; past it the oldest used are
    /// deleted first (a flood of sessions cannot grow the store, and a second sender of an
    /// evicted key fails only that message). Loading keeps the newest this many as well.
    static constexpr std::size_t max_used_one_time_keys = 1000;
    /// Unused one-time keys kept at most when loading (the lowest ids, which bundles offer).
    static constexpr std::size_t max_unused_one_time_keys = 1000;

    PreKeyStore() = default;
    PreKeyStore(PreKeyStore&&) noexcept = default;
    PreKeyStore& operator=(PreKeyStore&&) noexcept = default;

    /// Makes a new signed pre-key valid for lifetime_ms, signed by device for the identity whose
    /// Ed25519 key is identity_key; the previous one is kept for the grace period so sessions
    /// started against it still open.
    SignedPreKey rotate_signed_prekey(const DeviceKeys& device, const PublicKey& identity_key,
                                      std::uint64_t now_ms, std::uint64_t lifetime_ms);
    /// Makes count new one-time pre-keys (ids never reused), signed like the signed pre-key.
    std::vector<OneTimePreKey> generate_one_time_prekeys(const DeviceKeys& device,
                                                         const PublicKey& identity_key, std::size_t count);
    /// A bundle of the current signed pre-key and up to max_one_time unused one-time keys.
    /// Error{no_prekey} before the first rotate_signed_prekey().
    [[nodiscard]] PreKeyBundle bundle(const DeviceCertificate& cert, std::size_t max_one_time) const;

    /// The secret of a signed pre-key still held (Error{no_prekey} otherwise).
    [[nodiscard]] const DhKeyPair& signed_prekey(std::uint32_t id) const;
    /// The secret of a one-time key that is unused or used within its grace period
    /// (Error{no_prekey} otherwise).
    [[nodiscard]] const DhKeyPair& one_time_prekey(std::uint32_t id) const;
    /// Marks a one-time key used once a session made with it decrypted its first message: it
    /// leaves the bundle at once and is deleted when its grace period ends (expire()) or when
    /// more than max_used_one_time_keys are used (the oldest used first).
    void consume_one_time_prekey(std::uint32_t id, std::uint64_t now_ms);
    /// Drops previous signed pre-keys and used one-time keys whose grace period has ended.
    void expire(std::uint64_t now_ms);
    /// Unused one-time keys (what a bundle can still offer).
    [[nodiscard]] std::size_t one_time_count() const;

    /// Used one-time keys still held (at most max_used_one_time_keys).
    [[nodiscard]] std::size_t used_one_time_count() const;

    [[nodiscard]] SecretBytes serialize() const;
    /// Any number of stored one-time keys loads: beyond the caps above the oldest used and the
    /// newest unused are dropped (never a load failure). Error{malformed} for damage and for
    /// formats 1-2, from before identity binding (their signatures do not cover the identity).
    static PreKeyStore deserialize(ByteView bytes);

private:
    void evict_used_beyond_cap();
    struct Signed final {
        SignedPreKey pub;
        DhKeyPair pair;
    };
    struct OneTime final {
        OneTimePreKey pub;
        DhKeyPair pair;
        std::uint64_t used_ms = 0;  ///< 0: unused
    };
    std::vector<Signed> signed_;  // newest last
    std::map<std::uint32_t, OneTime> one_time_;
    std::uint32_t next_signed_id_ = 1;
    std::uint32_t next_one_time_id_ = 1;
};

}  // namespace veil::crypto
