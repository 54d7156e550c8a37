#pragma once
/// The Double Ratchet (Signal's specification) with header-in-AD XChaCha20-Poly1305.
/// KDF_RK = HKDF-SHA256(salt = RK, ikm = DH out, info "Veil_Ratchet_RootKey_v1") -> RK', CK.
/// KDF_CK: MK = HMAC-SHA256(CK, 0x01), CK' = HMAC-SHA256(CK, 0x02).
/// Message key -> HKDF(MK, info "Veil_Ratchet_MessageKey_v1") -> 32-byte key || 24-byte nonce.
/// Every decrypt is all-or-nothing: on any throw the session is byte-for-byte unchanged.

#include <cstdint>
#include <vector>

#include "veil/crypto/keys.hpp"

namespace veil::crypto {

/// The cleartext header of a ratchet message (authenticated as associated data).
struct RatchetHeader final {
    static constexpr std::size_t encoded_bytes = 41;  // version + key + pn + n
    PublicKey dh{};
    std::uint32_t pn = 0;  ///< messages in the sender's previous sending chain
    std::uint32_t n = 0;   ///< index in the current sending chain

    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}.
    static RatchetHeader decode(ByteView bytes);
    friend bool operator==(const RatchetHeader&, const RatchetHeader&) = default;
};

/// A ratchet message: header and AEAD ciphertext (plaintext + 16-byte tag).
struct RatchetMessage final {
    static constexpr std::size_t max_ciphertext_bytes = 1 << 20;
    RatchetHeader header;
    Bytes ciphertext;

    /// header (41 bytes) || u32 length || ciphertext.
    [[nodiscard]] Bytes encode() const;
    /// Throws Error{malformed}.
    static RatchetMessage decode(ByteView bytes);
};

/// One Double Ratchet session between two devices. Move-only; not thread-safe.
class RatchetSession final {
public:
    static constexpr std::uint32_t max_skip = 1000;                       ///< MAX_SKIP per chain
    static constexpr std::size_t max_skipped_keys = 2000;                 ///< oldest evicted first
    static constexpr std::uint64_t skipped_key_ttl_ms = 30ULL * 24 * 3600 * 1000;

    /// Alice: SK from X3DH, AD, and Bob's signed pre-key as his first ratchet key.
    static RatchetSession initiate(const SecretBytes& shared_key, Bytes associated_data,
                                   const PublicKey& their_ratchet_key);
    /// Bob: SK, AD, and his signed pre-key pair. Can send only after the first decrypt.
    static RatchetSession respond(const SecretBytes& shared_key, Bytes associated_data,
                                  DhKeyPair our_ratchet_key);

    RatchetSession(RatchetSession&&) noexcept = default;
    RatchetSession& operator=(RatchetSession&&) noexcept = default;

    /// Encrypts with the next sending key. Error{no_session} if this side cannot send yet.
    RatchetMessage encrypt(ByteView plaintext);
    /// Decrypts, or throws (decrypt_failed, duplicate_message, too_many_skipped, weak_key)
    /// leaving the session unchanged. Skipped keys older than skipped_key_ttl_ms are dropped.
    /// Keys stay in guarded memory; the plaintext is the caller's, in ordinary memory.
    Bytes decrypt(const RatchetMessage& message, std::uint64_t now_ms);

    [[nodiscard]] bool can_send() const { return has_cks_; }
    /// True once a message from the peer was decrypted.
    [[nodiscard]] bool has_received() const { return received_; }
    [[nodiscard]] std::size_t skipped_key_count() const { return skipped_.size(); }
    [[nodiscard]] const Bytes& associated_data() const { return ad_; }

    /// Storage form (holds secrets, so guarded) and back (Error{malformed}).
    [[nodiscard]] SecretBytes serialize() const;
    static RatchetSession deserialize(ByteView bytes);
    [[nodiscard]] RatchetSession clone() const;

private:
    struct Skipped final {
        PublicKey dh{};
        std::uint32_t n = 0;
        std::uint64_t stored_ms = 0;
    };
    struct Chains;  // the trial copy used by decrypt()

    RatchetSession() = default;
    [[nodiscard]] std::ptrdiff_t find_skipped(const PublicKey& dh, std::uint32_t n) const;
    void remove_skipped(std::size_t index);
    void add_skipped(const Skipped& s, const std::uint8_t* key);
    void expire_skipped(std::uint64_t now_ms);

    Bytes ad_;
    SecretBytes keys_{128};  // RK | CKs | CKr | DHs secret
    PublicKey dhs_pub_{};
    PublicKey dhr_{};
    bool has_dhr_ = false;
    bool has_cks_ = false;
    bool has_ckr_ = false;
    bool received_ = false;
    std::uint32_t ns_ = 0;
    std::uint32_t nr_ = 0;
    std::uint32_t pn_ = 0;
    std::vector<Skipped> skipped_;
    SecretBytes skipped_keys_;  // 32 bytes per entry of skipped_, same order; capacity grows
};

}  // namespace veil::crypto
