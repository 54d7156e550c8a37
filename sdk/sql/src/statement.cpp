#include "veil/sql/statement.hpp"

#include <sqlcipher/sqlite3.h>

#include <cerrno>
#include <cstring>

namespace veil::sql {

namespace {
// A non-null pointer for empty BLOBs: SQLite binds a null pointer as NULL.
constexpr std::uint8_t kEmpty = 0;

constexpr const char* kDamaged =
    "the database is damaged (a page does not decrypt or verify: the file was altered or cut short); "
    "restore it from a backup";

// SQLCipher reports a page that fails its check as a bare SQLITE_ERROR: no message of SQL's own
// (that would name the problem, "no such table: ..."), only the code's generic text.
bool bare_error(sqlite3* db, int rc) {
    return (rc & 0xff) == SQLITE_ERROR && db && std::strcmp(sqlite3_errmsg(db), sqlite3_errstr(SQLITE_ERROR)) == 0;
}
}  // namespace

void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
    std::string msg(what);
    msg += ": ";
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
            throw Error(Failure::key_mismatch, msg + "the key does not open the database (or it is not a database)");
        case SQLITE_FULL:
            throw Error(Failure::disk_full, msg + "disk full");
        case SQLITE_IOERR:
            // A write the file system refused for want of space is a full disk, not a broken one.
            if (db && (sqlite3_system_errno(db) == ENOSPC || sqlite3_system_errno(db) == EDQUOT)) {
                throw Error(Failure::disk_full, msg + "disk full");
            }
            break;
        case SQLITE_TOOBIG:
            throw Error(Failure::too_large, msg + "key or value too large");
        case SQLITE_CORRUPT:
            throw Error(Failure::io, msg + kDamaged);
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            throw Error(Failure::io, msg + "the database is busy (another process holds a lock)");
        default:
            break;
    }
    if (bare_error(db, rc)) throw Error(Failure::io, msg + kDamaged);
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw Error(Failure::io, msg);
}

void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, "sql");
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, "prepare");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::blob(int index, const void* data, std::size_t size) {
    if (size > static_cast<std::size_t>(INT32_MAX)) throw Error(Failure::too_large, "value larger than 2 GiB");
    int rc = sqlite3_bind_blob(stmt_, index, size ? data : &kEmpty, static_cast<int>(size), SQLITE_STATIC);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

Statement& Statement::int64(int index, std::int64_t v) {
    int rc = sqlite3_bind_int64(stmt_, index, v);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    throw_sqlite(db_, rc, "step");
}

std::int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

wire::Bytes Statement::column_bytes(int index) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
    return p ? wire::Bytes(p, p + n) : wire::Bytes{};
}

std::size_t Statement::column_size(int index) const {
    return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
}

void Statement::copy_column(int index, std::uint8_t* out, std::size_t size) const {
    const void* p = sqlite3_column_blob(stmt_, index);
    if (p && column_size(index) == size) std::memcpy(out, p, size);
}

std::string Statement::column_string(int index) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
    return p ? std::string(p, n) : std::string{};
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

Savepoint::Savepoint(sqlite3* db) : db_(db) { exec(db, "SAVEPOINT op;"); }

Savepoint::~Savepoint() {
    // Skipped when SQLite already rolled the whole transaction back (then nothing is left).
    if (open_ && !autocommit(db_)) {
        sqlite3_exec(db_, "ROLLBACK TO op;", nullptr, nullptr, nullptr);
        sqlite3_exec(db_, "RELEASE op;", nullptr, nullptr, nullptr);
    }
}

void Savepoint::release() {
    exec(db_, "RELEASE op;");
    open_ = false;
}

bool autocommit(sqlite3* db) { return sqlite3_get_autocommit(db) != 0; }

Transaction::Transaction(sqlite3* db) : db_(db) { exec(db, "BEGIN IMMEDIATE;"); }

Transaction::~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    exec(db_, "COMMIT;");
    open_ = false;
}

}  // namespace veil::sql
