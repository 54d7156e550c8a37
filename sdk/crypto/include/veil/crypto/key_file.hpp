#pragma once
/// Key files of nodes and authorities: an Ed25519 seed (32 raw bytes) or a random secret as hex,
/// each in a 0600 file created on first use.

#include <filesystem>

#include "veil/crypto/keys.hpp"

namespace veil::crypto {

/// The key in `path`; a fresh one is generated and written (0600, parent created 0700) if the
/// file does not exist. Throws std::runtime_error on a file of the wrong size or an I/O error.
[[nodiscard]] SigningKeyPair load_or_create_signing_key(const std::filesystem::path& path);

/// A random 32-byte key as 64 hex digits in `path` (0600), created if missing; for the node's
/// SQLCipher database key. Throws std::runtime_error on I/O errors or a malformed file.
[[nodiscard]] std::string load_or_create_hex_secret(const std::filesystem::path& path);

}  // namespace veil::crypto
