#include "veil/crypto/error.hpp"

namespace veil::crypto {

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_id: return "invalid_id";
        case ErrorKind::invalid_phrase: return "invalid_phrase";
        case ErrorKind::malformed: return "malformed";
        case ErrorKind::bad_signature: return "bad_signature";
        case ErrorKind::untrusted_key: return "untrusted_key";
        case ErrorKind::stale_version: return "stale_version";
        case ErrorKind::revoked: return "revoked";
        case ErrorKind::expired: return "expired";
        case ErrorKind::no_prekey: return "no_prekey";
        case ErrorKind::weak_key: return "weak_key";
        case ErrorKind::decrypt_failed: return "decrypt_failed";
        case ErrorKind::duplicate_message: return "duplicate_message";
        case ErrorKind::too_many_skipped: return "too_many_skipped";
        case ErrorKind::no_session: return "no_session";
        case ErrorKind::wrong_passphrase: return "wrong_passphrase";
        case ErrorKind::truncated: return "truncated";
        case ErrorKind::digest_mismatch: return "digest_mismatch";
        case ErrorKind::too_large: return "too_large";
        case ErrorKind::invalid_argument: return "invalid_argument";
    }
    return "unknown";
}

}  // namespace veil::crypto
