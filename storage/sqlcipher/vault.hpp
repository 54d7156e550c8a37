#pragma once
// The database together with its key file (DESIGN.md §6): opening checks the passphrase, then
// the key, before anything is written; creating makes a random 32-byte key; re-sealing sets,
// changes or removes the passphrase and may rotate the database key, crash-safe at every step.
#include <filesystem>
#include <memory>

#include "database.hpp"
#include "key_file.hpp"

namespace veil::sqlcipher {

/// The end of every error about a missing, empty or damaged database: how to get it back.
extern const char* const kRestoreAdvice;

/// How to open a vault.
struct VaultOptions {
    DatabaseOptions database;
    /// Argon2id cost when a key is wrapped (tests use minimum()).
    crypto::WrapParams wrap = crypto::WrapParams::interactive();
    /// Make a new database and key file when neither exists (else Error{missing_file}).
    bool create_if_missing = true;
};

/// What open() found or did, for logs and the passphrase command.
enum class OpenOutcome : std::uint8_t {
    opened = 1,          ///< an existing database
    created,             ///< a new database and key file
    finished_rotation,   ///< a key rotation interrupted after the rekey was completed
    undid_rotation,      ///< a key rotation interrupted before the rekey was dropped
};

/// An open database and the key that opens it. Single-threaded, like Database.
class Vault final {
public:
    /// The key file of the database at `db_path`: the same path with ".key" appended.
    static std::filesystem::path key_path(const std::filesystem::path& db_path);
    /// The lock file (".lock" appended): every open vault holds a shared flock on it; a key
    /// rotation needs it exclusively, so it never pulls the key from under another process.
    static std::filesystem::path lock_path(const std::filesystem::path& db_path);

    /// Opens (or creates) the database at `db_path`. `passphrase` is null when none was given.
    /// Throws Error{passphrase_required | wrong_passphrase | damaged_key_file | key_mismatch |
    /// missing_file | schema_too_new | io}; on any of them the database file is untouched.
    static std::unique_ptr<Vault> open(const std::filesystem::path& db_path, const crypto::SecretBytes* passphrase,
                                       const VaultOptions& options = {});

    [[nodiscard]] Database& db() { return *db_; }
    /// How the key file keeps the key now.
    [[nodiscard]] Protection protection() const { return protection_; }
    [[nodiscard]] OpenOutcome outcome() const { return outcome_; }
    [[nodiscard]] const std::filesystem::path& path() const { return db_path_; }

    /// Re-writes the key file under `passphrase` (null: no passphrase, the raw key in a 0600
    /// file). With `rotate`, first moves the database to a fresh random key (PRAGMA rekey); the
    /// key file holds both keys while that runs, so a crash leaves one that opens the database.
    /// A rotation while another process has the database open throws Error{busy}.
    void reseal(const crypto::SecretBytes* passphrase, bool rotate);

    ~Vault();
    Vault(const Vault&) = delete;
    Vault& operator=(const Vault&) = delete;

private:
    Vault() = default;
    int lock_fd_ = -1;
    std::filesystem::path db_path_;
    std::unique_ptr<Database> db_;
    crypto::SecretBytes key_;  // the key that opens db_ now
    Protection protection_ = Protection::none;
    OpenOutcome outcome_ = OpenOutcome::opened;
    crypto::WrapParams wrap_;
};

}  // namespace veil::sqlcipher
