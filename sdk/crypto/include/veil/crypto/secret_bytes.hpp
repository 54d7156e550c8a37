#pragma once
/// SecretBytes: a fixed-size buffer for key material in sodium_malloc'd memory (guard pages,
/// canary, mlock where allowed) that is wiped when freed. Move-only; clone() copies explicitly.
/// Not thread-safe; one owner at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "veil/crypto/error.hpp"
#include "veil/wire/codec.hpp"

namespace veil::crypto {

using wire::Bytes;
using wire::ByteView;

/// Initialises libsodium once (thread-safe, idempotent). Every entry point calls it.
void ensure_sodium();

/// Owned secret bytes in guarded memory, wiped on destruction.
class SecretBytes final {
public:
    SecretBytes() = default;
    /// n zero bytes.
    explicit SecretBytes(std::size_t n);
    /// n bytes from the system CSPRNG.
    static SecretBytes random(std::size_t n);
    /// A guarded copy of b (the caller still owns and should wipe b).
    static SecretBytes copy_of(ByteView b);
    /// A guarded copy of the UTF-8 bytes of s.
    static SecretBytes copy_of(std::string_view s);

    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    ~SecretBytes();

    /// An independent guarded copy.
    [[nodiscard]] SecretBytes clone() const;

    [[nodiscard]] std::uint8_t* data() { return ptr_; }
    [[nodiscard]] const std::uint8_t* data() const { return ptr_; }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] ByteView view() const { return {ptr_, size_}; }
    [[nodiscard]] std::span<std::uint8_t> span() { return {ptr_, size_}; }
    /// The bytes as text (for recovery phrases and other secret strings).
    [[nodiscard]] std::string_view str() const {
        return {reinterpret_cast<const char*>(ptr_), size_};
    }
    /// Constant-time comparison with b.
    [[nodiscard]] bool equals(ByteView b) const;

private:
    std::uint8_t* ptr_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace veil::crypto
