#pragma once
/// BIP-39 English recovery phrases: entropy <-> words with the SHA-256 checksum.
/// Veil uses 32 bytes of entropy (the identity seed) -> 24 words.

#include "veil/crypto/secret_bytes.hpp"

namespace veil::crypto {

/// Words of a phrase for 16, 20, 24, 28 or 32 bytes of entropy, single spaces, in guarded
/// memory. Throws Error{invalid_argument} for other sizes.
SecretBytes entropy_to_phrase(ByteView entropy);

/// Entropy of a phrase (any whitespace, either case). Throws Error{invalid_phrase} whose message
/// names the position and text of an unknown word, a wrong word count, or a checksum mismatch.
SecretBytes phrase_to_entropy(std::string_view phrase);

/// The 2048-word English list (index -> word).
std::string_view bip39_word(std::size_t index);

}  // namespace veil::crypto
