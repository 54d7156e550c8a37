#pragma once
/// HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256 (libsodium 1.0.18 has no HKDF call).

#include "veil/crypto/secret_bytes.hpp"

namespace veil::crypto {

/// HKDF-Extract: PRK = HMAC-SHA256(salt, ikm). An empty salt means 32 zero bytes.
SecretBytes hkdf_extract(ByteView salt, ByteView ikm);
/// HKDF-Expand: length bytes (at most 255 * 32) from a PRK of at least 32 bytes.
SecretBytes hkdf_expand(ByteView prk, ByteView info, std::size_t length);
/// Extract then expand.
SecretBytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length);
/// HMAC-SHA256(key, data) into 32 guarded bytes.
SecretBytes hmac_sha256(ByteView key, ByteView data);

/// View of a string literal label, for the `info` argument.
inline ByteView label(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace veil::crypto
