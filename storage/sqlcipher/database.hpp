#pragma once
// The encrypted database: one SQLCipher connection opened with a 32-byte raw key, the key
// checked before anything else, WAL, migrations, and the key/value operations of the storage
// contract. Synchronous and single-threaded: the plugin runs it on its own store thread.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "veil/crypto/secret_bytes.hpp"
#include "veil/sdk/storage.hpp"

struct sqlite3;

namespace veil::sql {
class Statement;
}  // namespace veil::sql

namespace veil::sqlcipher {

/// Settings of a connection.
struct DatabaseOptions {
    /// synchronous=FULL: a commit survives power loss. NORMAL (false) survives a process crash
    /// only (WAL is synced at checkpoints).
    bool durable_commits = true;
    /// Migrate up to this version (0: the latest). Tests use it to build older schemas.
    int schema_version = 0;
};

/// One open database. Move-only handle; not thread-safe (one thread at a time).
class Database final {
public:
    /// Opens the existing database at `path` with `key`. A wrong key throws
    /// Error{key_mismatch} before anything is written (no WAL, no -shm, file unchanged).
    static std::unique_ptr<Database> open(const std::filesystem::path& path, const crypto::SecretBytes& key,
                                          const DatabaseOptions& options = {});
    /// Creates a new database at `path` (which must not exist) encrypted with `key`.
    static std::unique_ptr<Database> create(const std::filesystem::path& path, const crypto::SecretBytes& key,
                                            const DatabaseOptions& options = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void put(std::string_view ns, std::string_view key, wire::ByteView value);
    [[nodiscard]] std::optional<wire::Bytes> get(std::string_view ns, std::string_view key);
    void erase(std::string_view ns, std::string_view key);
    /// Entries of `ns` whose key starts with `prefix`, ascending, at most `limit`.
    [[nodiscard]] sdk::storage::ScanReply scan(std::string_view ns, std::string_view prefix, std::size_t limit);
    /// Every operation in one transaction (or savepoint, inside an open transaction): all or
    /// none. Throws Error{bad_input} for an invalid operation kind (nothing applied).
    void apply(const sdk::storage::Batch& batch);

    /// Re-encrypts every page under `key` (PRAGMA rekey, one transaction), then truncates the
    /// WAL so no page under the old key stays behind.
    void rekey(const crypto::SecretBytes& key);

    /// PRAGMA user_version.
    [[nodiscard]] int schema_version() const;
    /// The connection, for tests and the benchmark (same thread only).
    [[nodiscard]] sqlite3* handle() const { return db_; }

private:
    Database(sqlite3* db, const DatabaseOptions& options);
    static std::unique_ptr<Database> connect(const std::filesystem::path& path, const crypto::SecretBytes& key,
                                             const DatabaseOptions& options, bool create);
    void write(std::string_view ns, std::string_view key, const wire::ByteView* value);

    sqlite3* db_;
    std::unique_ptr<sql::Statement> put_, get_, erase_, scan_, scan_open_;
};

/// "x'<64 hex digits>'": the raw-key form of PRAGMA key, in guarded memory.
crypto::SecretBytes raw_key_literal(const crypto::SecretBytes& key);

}  // namespace veil::sqlcipher
