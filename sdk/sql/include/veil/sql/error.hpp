#pragma once
/// The one exception type of veil_sql and of the databases built on it (the sqlcipher storage
/// backend, the service node's message store). Each failure has a kind a caller can branch on;
/// messages name files and steps, never keys or data.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace veil::sql {

/// What went wrong. Zero is never valid.
enum class Failure : std::uint8_t {
    passphrase_required = 1,  ///< the key file is wrapped but no passphrase was given
    wrong_passphrase,         ///< the passphrase does not open the key file
    damaged_key_file,         ///< the key file does not decode (truncated, altered, unknown version)
    key_mismatch,             ///< the key does not open the database (other key file, damaged db)
    missing_file,             ///< the database or its key file is missing while the other exists
    schema_too_new,           ///< the database was written by a newer Veil
    busy,                     ///< another process has the database open (key rotation refused)
    bad_input,                ///< a caller error (bad path, bad batch operation, bad key)
    too_large,                ///< a key or value beyond SQLite's limits
    io,                       ///< file system or SQLite failure
    disk_full,                ///< a write found no space (SQLITE_FULL, ENOSPC, EDQUOT); nothing was written
};

/// Thrown by every function that can fail.
class Error final : public std::runtime_error {
public:
    Error(Failure failure, const std::string& what) : std::runtime_error(what), failure_(failure) {}
    [[nodiscard]] Failure failure() const { return failure_; }

private:
    Failure failure_;
};

}  // namespace veil::sql
