#pragma once
/// Errors of libveil-crypto. Every failure is reported by throwing veil::crypto::Error with a
/// kind a caller can branch on; the message is for people and never holds secret material.
/// Decoders of untrusted bytes throw Error{ErrorKind::malformed} (never wire::DecodeError).

#include <stdexcept>
#include <string>

namespace veil::crypto {

/// What went wrong. The zero value is not a valid kind.
enum class ErrorKind {
    invalid_id = 1,      ///< a Veil ID of the wrong length, prefix, alphabet or point
    invalid_phrase,      ///< a recovery phrase with an unknown word, wrong count or checksum
    malformed,           ///< bytes that do not decode (truncated, oversized, bad version)
    bad_signature,       ///< a signature that does not verify
    untrusted_key,       ///< a key that is not bound to the claimed identity or device
    stale_version,       ///< a device list whose version is not newer than the one held
    revoked,             ///< a device that the device list revoked or does not list
    expired,             ///< a signed pre-key or message past its lifetime
    no_prekey,           ///< a pre-key id that is unknown or already used
    weak_key,            ///< a public key of low order (X25519 output all zero)
    decrypt_failed,      ///< authentication failed: wrong key, tampered or forged bytes
    duplicate_message,   ///< a ratchet message whose key was already used or dropped
    too_many_skipped,    ///< a ratchet message that would skip more than MAX_SKIP keys
    no_session,          ///< no session with that peer device (or it cannot send yet)
    wrong_passphrase,    ///< a wrapped key that the passphrase does not open
    truncated,           ///< an attachment stream that ended before its final chunk
    digest_mismatch,     ///< an attachment whose ciphertext digest differs from the pointer's
    too_large,           ///< input beyond a documented size limit
    invalid_argument,    ///< a caller error (wrong key size, bad parameter)
};

/// Stable lower-case name of a kind, e.g. "decrypt_failed".
const char* to_string(ErrorKind kind);

/// The one exception type thrown by libveil-crypto.
class Error final : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    [[nodiscard]] ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace veil::crypto
