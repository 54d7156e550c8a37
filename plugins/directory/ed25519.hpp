#pragma once
/// The one place where node and authority identity keys touch libsodium (to be swapped for
/// veil::crypto identities once that library is in). Secret keys live in sodium_malloc'd memory.

#include <memory>
#include <span>

#include "directory/types.hpp"
#include "veil/wire/codec.hpp"

namespace veil::directory {

/// An Ed25519 key pair whose secret half sits in guarded memory, wiped on destruction.
/// Move-only; any thread may sign concurrently (signing does not mutate).
class SigningKey final {
public:
    /// A fresh random key.
    static SigningKey generate();
    /// The key derived from a 32-byte seed; throws std::invalid_argument on a wrong size.
    static SigningKey from_seed(std::span<const std::uint8_t> seed);

    SigningKey(SigningKey&&) noexcept = default;
    SigningKey& operator=(SigningKey&&) noexcept = default;
    ~SigningKey() = default;

    [[nodiscard]] const PublicKey& public_key() const { return public_key_; }
    /// The X25519 public key converted from the Ed25519 one (what onion layers encrypt to).
    [[nodiscard]] PublicKey x25519_public_key() const;
    /// The 32-byte seed, for writing a key file (0600). The caller wipes the copy.
    [[nodiscard]] std::array<std::uint8_t, 32> seed() const;
    /// Detached signature over msg.
    [[nodiscard]] Signature sign(wire::ByteView msg) const;

private:
    struct Free {
        void operator()(unsigned char* p) const noexcept;
    };
    SigningKey();
    std::unique_ptr<unsigned char, Free> secret_;  // 64 bytes, libsodium layout
    PublicKey public_key_{};
};

/// True when sig is pk's valid Ed25519 signature over msg.
[[nodiscard]] bool verify_signature(const PublicKey& pk, wire::ByteView msg, const Signature& sig);

/// The X25519 key libsodium derives from an Ed25519 public key; nullopt-like false on a bad key.
[[nodiscard]] bool ed25519_to_x25519(const PublicKey& ed, PublicKey& x_out);

/// Copies exactly 32 or 64 bytes read from the wire into a fixed array.
template <std::size_t N>
std::array<std::uint8_t, N> to_array(wire::ByteView b) {
    std::array<std::uint8_t, N> out{};
    if (b.size() != N) throw wire::DecodeError("wire: fixed field of wrong size");
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

}  // namespace veil::directory
