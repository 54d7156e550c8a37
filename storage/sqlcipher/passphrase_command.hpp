#pragma once
// `veil passphrase`: sets, changes or removes the passphrase that wraps the database key, and
// with --rekey rotates the database key itself.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veil/crypto/secret_bytes.hpp"
#include "veil/sdk/commands.hpp"

namespace veil::sqlcipher {

class SqlBackend;

/// What the command was asked to do.
struct PassphraseRequest {
    enum class Change : std::uint8_t { keep = 1, set = 2, remove = 3 };
    Change change = Change::keep;
    std::optional<std::string> new_file;  ///< --new-passphrase-file (else VEIL_NEW_PASSPHRASE)
    bool rekey = false;
};

/// Usage line of the command.
inline constexpr const char* kPassphraseUsage =
    "passphrase [--passphrase-file CURRENT] (--new-passphrase-file FILE | --remove) [--rekey]";
/// Its options, for `--help`.
inline constexpr const char* kPassphraseOptions =
    "  --passphrase-file FILE      the current passphrase (or VEIL_PASSPHRASE)\n"
    "  --new-passphrase-file FILE  the new passphrase (or VEIL_NEW_PASSPHRASE)\n"
    "  --remove                    keep the key in a 0600 key file, without passphrase\n"
    "  --rekey                     also re-encrypt the database under a new random key\n";

/// Parses the command's arguments; nullopt with `error` set on a usage error.
std::optional<PassphraseRequest> parse_passphrase_args(const std::vector<std::string>& args, std::string& error);

/// Runs the command against an open backend. `current` is the passphrase the database was
/// opened with (null if none); it re-wraps the key when only --rekey is asked.
void run_passphrase_command(sdk::CommandCall call, SqlBackend& backend,
                            std::shared_ptr<const crypto::SecretBytes> current);

}  // namespace veil::sqlcipher
