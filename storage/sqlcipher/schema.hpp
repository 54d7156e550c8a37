#pragma once
// Schema migrations, tracked in PRAGMA user_version. Each step runs in its own transaction
// together with its version bump, so a crash leaves the database at one version or the next.
#include <span>

struct sqlite3;

namespace veil::sqlcipher {

/// One step from version - 1 to version.
struct Migration {
    int version;
    const char* what;  ///< one line for logs and docs
    const char* sql;
};

/// Every step, in order (version 1 first).
std::span<const Migration> migrations();

/// The version this build writes.
int latest_schema_version();

/// The database's PRAGMA user_version.
int schema_version(sqlite3* db);

/// Applies the steps above the current version, up to `target` (default: the latest).
/// Throws Error{schema_too_new} if the database is newer than `target`, Error{io} on failure.
void migrate(sqlite3* db, int target = 0);

}  // namespace veil::sqlcipher
