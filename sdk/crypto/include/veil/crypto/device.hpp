#pragma once
/// Devices of an identity: per-device keys, a certificate signed by the identity key, and the
/// signed, versioned device list (versions only go up; revoked devices stay listed as revoked).

#include <cstdint>
#include <optional>
#include <vector>

#include "veil/crypto/identity.hpp"

namespace veil::crypto {

/// The secret keys of one device: an Ed25519 pair and its X25519 conversion. Move-only.
class DeviceKeys final {
public:
    static DeviceKeys generate();
    /// Deterministic from a 32-byte seed.
    static DeviceKeys from_seed(const SecretBytes& seed);
    /// Storage form (the seed) in guarded memory, and back.
    [[nodiscard]] SecretBytes serialize() const;
    static DeviceKeys deserialize(ByteView bytes);

    /// Ed25519 key: names the device, signs its pre-keys.
    [[nodiscard]] const PublicKey& signing_key() const { return sign_.pub; }
    /// X25519 key: X3DH identity key of the device and its mailbox key.
    [[nodiscard]] const PublicKey& dh_key() const { return dh_.pub; }
    [[nodiscard]] const DhKeyPair& dh_pair() const { return dh_; }
    [[nodiscard]] Signature sign(ByteView msg) const { return sign_.sign(msg); }

private:
    DeviceKeys(SecretBytes seed, SigningKeyPair sign, DhKeyPair dh);
    SecretBytes seed_;
    SigningKeyPair sign_;
    DhKeyPair dh_;
};

class DeviceList;

/// "This device belongs to this identity", signed by the identity key.
struct DeviceCertificate final {
    PublicKey identity_key{};  ///< the identity's Ed25519 key (bound to its Veil ID)
    PublicKey device_signing_key{};
    PublicKey device_dh_key{};
    std::uint64_t issued_ms = 0;
    Signature signature{};

    /// Certifies device for identity.
    static DeviceCertificate issue(const Identity& identity, const DeviceKeys& device,
                                   std::uint64_t now_ms);
    /// Same, from the device's public keys (as DeviceList::with_device). Certifying keys proves
    /// nothing about owning them: the pre-key signatures (over the identity) and X3DH's AD do.
    static DeviceCertificate issue(const Identity& identity, const PublicKey& device_signing_key,
                                   const PublicKey& device_dh_key, std::uint64_t now_ms);
    /// Throws Error{untrusted_key} if identity_key is not bound to id or the device keys do not
    /// belong together, Error{bad_signature} if the signature fails.
    void verify(const VeilId& id) const;
    /// verify(id), then checks the identity's device list (verified against id too) lists the
    /// device as active: Error{revoked} otherwise.
    void verify(const VeilId& id, const DeviceList& list) const;
    /// The Veil ID the certificate claims (unverified until verify()).
    [[nodiscard]] VeilId claimed_id() const { return veil_id_of(identity_key); }

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}. Does not verify.
    static DeviceCertificate decode(ByteView bytes);
    friend bool operator==(const DeviceCertificate&, const DeviceCertificate&) = default;
};

/// The identity's signed list of devices. Immutable value: changes produce a new signed list
/// with version + 1.
class DeviceList final {
public:
    static constexpr std::size_t max_devices = 64;
    /// The highest version a list may carry (below 2^63): decode refuses more, so `version + 1`
    /// never wraps and a list can always be superseded.
    static constexpr std::uint64_t max_version = (std::uint64_t{1} << 63) - 1;
    /// How far a version may lie ahead of the reader's clock in ms. Versions start at the clock
    /// (a new chain is signed at its time in ms) and rise by one per change, so an honest list
    /// is never far ahead; one signed far in the future would stay the newest for ever and no
    /// later list (a revocation) could replace it.
    static constexpr std::uint64_t max_version_lead_ms = 24ULL * 3600 * 1000;

    struct Entry final {
        PublicKey signing_key{};
        PublicKey dh_key{};
        std::uint64_t added_ms = 0;
        std::uint64_t revoked_ms = 0;  ///< 0 while active
        [[nodiscard]] bool revoked() const { return revoked_ms != 0; }
        friend bool operator==(const Entry&, const Entry&) = default;
    };

    /// An empty, unsigned list (version 0), the start of the chain.
    DeviceList() = default;

    /// A new list (version + 1, or min_version when that is higher) with the device added,
    /// signed by identity. min_version lets a chain restarted from nothing (a restore that found
    /// no list) start above any version readers may hold.
    [[nodiscard]] DeviceList with_device(const Identity& identity, const DeviceKeys& device,
                                         std::uint64_t now_ms, std::uint64_t min_version = 0) const;
    /// Same, from the device's public keys (e.g. a certificate shown by the new device).
    [[nodiscard]] DeviceList with_device(const Identity& identity, const PublicKey& signing_key,
                                         const PublicKey& dh_key, std::uint64_t now_ms,
                                         std::uint64_t min_version = 0) const;
    /// A new list (version + 1) with the device marked revoked. Error{revoked} if not listed.
    [[nodiscard]] DeviceList with_revoked(const Identity& identity,
                                          const PublicKey& device_signing_key,
                                          std::uint64_t now_ms) const;

    /// The union of this list and `other` (both signed by identity), signed at the higher of
    /// the two versions + 1: every device either one lists, revoked when either revokes it (at
    /// the earlier time), in a canonical order (added_ms, then key) so two devices joining the
    /// same two lists sign the same bytes. Joins a fork (a device restored from an old backup
    /// signed its own next list) without making active a device one side revoked.
    /// Error{untrusted_key} for another identity's list, Error{bad_signature} when `other` does
    /// not verify (checked here, whatever the caller did), Error{too_large} past max_devices.
    [[nodiscard]] DeviceList merged_with(const Identity& identity, const DeviceList& other) const;

    /// Throws Error{untrusted_key}/Error{bad_signature} unless signed by the key bound to id.
    void verify(const VeilId& id) const;
    /// True when the version lies more than max_version_lead_ms ahead of now_ms.
    [[nodiscard]] bool from_future(std::uint64_t now_ms) const;
    /// Verifies incoming against id and accepts it only if its version is greater than
    /// current's (Error{stale_version} otherwise) and not from_future(now_ms)
    /// (Error{too_large}). Returns incoming.
    static DeviceList accept_update(const std::optional<DeviceList>& current,
                                    DeviceList incoming, const VeilId& id, std::uint64_t now_ms);

    /// True when the device is listed and not revoked.
    [[nodiscard]] bool is_active(const PublicKey& device_signing_key) const;
    [[nodiscard]] const Entry* find(const PublicKey& device_signing_key) const;
    [[nodiscard]] std::uint64_t version() const { return version_; }
    [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
    [[nodiscard]] const PublicKey& identity_key() const { return identity_key_; }

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}. Does not verify.
    static DeviceList decode(ByteView bytes);

private:
    [[nodiscard]] Bytes signed_part() const;
    [[nodiscard]] DeviceList signed_next(const Identity& identity, std::vector<Entry> entries,
                                         std::uint64_t min_version = 0) const;
    PublicKey identity_key_{};
    std::uint64_t version_ = 0;
    std::uint64_t issued_ms_ = 0;
    std::vector<Entry> entries_;
    Signature signature_{};
};

}  // namespace veil::crypto
