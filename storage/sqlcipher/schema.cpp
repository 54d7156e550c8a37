#include "schema.hpp"

#include <sqlcipher/sqlite3.h>

#include <string>

#include "error.hpp"
#include "veil/sql/statement.hpp"

namespace veil::sqlcipher {

namespace {

// Keys and namespaces are BLOBs so any bytes work and order is memcmp order (the contract's
// "ascending key order"). WITHOUT ROWID: the primary key is the table, prefix scans are ranges.
constexpr Migration kMigrations[] = {
    {1, "key/value table behind the storage contract",
     "CREATE TABLE kv (\n"
     "  ns    BLOB NOT NULL,\n"
     "  key   BLOB NOT NULL,\n"
     "  value BLOB NOT NULL,\n"
     "  PRIMARY KEY (ns, key)\n"
     ") WITHOUT ROWID;"},
    {2, "meta table: when the database was made and its key last rotated",
     "CREATE TABLE meta (\n"
     "  name  TEXT PRIMARY KEY NOT NULL,\n"
     "  value INTEGER NOT NULL\n"
     ");\n"
     "INSERT INTO meta (name, value)\n"
     "  VALUES ('created_ms', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

int schema_version(sqlite3* db) {
    sql::Statement s(db, "PRAGMA user_version;");
    s.step();
    return static_cast<int>(s.column_int64(0));
}

void migrate(sqlite3* db, int target) {
    if (target <= 0) target = latest_schema_version();
    int current = schema_version(db);
    if (current > target) {
        throw Error(Failure::schema_too_new, "the database has schema version " + std::to_string(current) +
                                                 ", newer than this Veil's " + std::to_string(target) +
                                                 ": upgrade Veil to open it");
    }
    for (const auto& m : kMigrations) {
        if (m.version <= current || m.version > target) continue;
        sql::Transaction tx(db);
        sql::exec(db, m.sql);
        sql::exec(db, "PRAGMA user_version = " + std::to_string(m.version) + ";");
        tx.commit();
    }
}

}  // namespace veil::sqlcipher
