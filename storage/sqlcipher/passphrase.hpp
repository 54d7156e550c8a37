#pragma once
// Where a passphrase comes from (DESIGN.md §8): --passphrase-file on the command line, the
// plugin's passphrase_file key, or the VEIL_PASSPHRASE environment variable, in that order.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veil/crypto/secret_bytes.hpp"

namespace veil::sqlcipher {

/// The value of `flag` in `args` ("--flag VALUE" or "--flag=VALUE"), up to a "--" separator.
std::optional<std::string> find_option(const std::vector<std::string>& args, std::string_view flag);

/// True if `args` holds `flag` (up to a "--" separator).
bool has_flag(const std::vector<std::string>& args, std::string_view flag);

/// The first line of `path` without its line ending, in guarded memory. Throws
/// Error{bad_input} if the file cannot be read or the line is empty.
crypto::SecretBytes read_passphrase_file(const std::filesystem::path& path);

/// The passphrase of an environment variable (unset or empty: none).
std::optional<crypto::SecretBytes> passphrase_from_env(const char* name);

/// Resolves the passphrase: `--passphrase-file` in `args`, else `config_file` (if not empty),
/// else the environment variable VEIL_PASSPHRASE; nullopt when none is given.
std::optional<crypto::SecretBytes> resolve_passphrase(const std::vector<std::string>& args,
                                                      const std::string& config_file);

}  // namespace veil::sqlcipher
