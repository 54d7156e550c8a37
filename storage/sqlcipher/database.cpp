#include "database.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>
#include <sqlcipher/sqlite3.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>

#include "error.hpp"
#include "key_file.hpp"
#include "schema.hpp"
#include "veil/sql/statement.hpp"

namespace veil::sqlcipher {

namespace fs = std::filesystem;
using crypto::SecretBytes;
using sdk::storage::BatchOp;

namespace {

// Runs "PRAGMA <name> = \"x'...'\";" with the key spelled out in guarded memory.
void key_pragma(sqlite3* db, const char* name, const SecretBytes& key) {
    auto literal = raw_key_literal(key);
    constexpr std::string_view head = "PRAGMA ";
    SecretBytes sql(head.size() + std::strlen(name) + 4 + literal.size() + 3 + 1);
    auto* p = reinterpret_cast<char*>(sql.data());
    p += head.copy(p, head.size());
    std::memcpy(p, name, std::strlen(name));
    p += std::strlen(name);
    std::memcpy(p, " = \"", 4);
    p += 4;
    std::memcpy(p, literal.data(), literal.size());
    p += literal.size();
    std::memcpy(p, "\";", 3);  // with the terminating NUL
    int rc = sqlite3_exec(db, reinterpret_cast<const char*>(sql.data()), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) sql::throw_sqlite(db, rc, std::string("PRAGMA ") + name);
}

// The smallest prefix successor: every key starting with `prefix` is below it. Empty when the
// prefix is empty or all 0xff (no upper bound).
std::string upper_bound_of(std::string_view prefix) {
    std::string s(prefix);
    while (!s.empty()) {
        auto& c = reinterpret_cast<unsigned char&>(s.back());
        if (c != 0xff) {
            ++c;
            return s;
        }
        s.pop_back();
    }
    return s;
}

}  // namespace

SecretBytes raw_key_literal(const SecretBytes& key) {
    if (key.size() != kKeyBytes) throw Error(Failure::bad_input, "a database key has 32 bytes");
    SecretBytes out(2 + 2 * key.size() + 1 + 1);
    auto* p = reinterpret_cast<char*>(out.data());
    p[0] = 'x';
    p[1] = '\'';
    sodium_bin2hex(p + 2, 2 * key.size() + 1, key.data(), key.size());  // writes a NUL we overwrite
    p[2 + 2 * key.size()] = '\'';
    return SecretBytes::copy_of(out.view().first(out.size() - 1));
}

std::unique_ptr<Database> Database::open(const fs::path& path, const SecretBytes& key, const DatabaseOptions& options) {
    return connect(path, key, options, false);
}

std::unique_ptr<Database> Database::create(const fs::path& path, const SecretBytes& key, const DatabaseOptions& options) {
    // Made here with mode 0600: SQLite gives the -wal and -shm files the same mode.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) throw Error(Failure::bad_input, "cannot create " + path.string() + ": it exists");
        throw Error(Failure::io, "cannot create " + path.string() + ": " + std::strerror(errno));
    }
    ::close(fd);
    try {
        return connect(path, key, options, true);
    } catch (...) {
        std::error_code ec;
        fs::remove(path, ec);
        throw;
    }
}

std::unique_ptr<Database> Database::connect(const fs::path& path, const SecretBytes& key, const DatabaseOptions& options,
                                            bool create) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string what = "cannot open " + path.string();
        if (!db) throw Error(Failure::io, what + ": out of memory");
        try {
            sql::throw_sqlite(db, rc, what);
        } catch (...) {
            sqlite3_close(db);
            throw;
        }
    }
    // Other veil processes may hold locks for a moment (a commit, the last close's checkpoint).
    sqlite3_busy_timeout(db, 5000);
    try {
        // The key and the page size first; then one read proves the key before any write.
        key_pragma(db, "key", key);
        sql::exec(db, "PRAGMA cipher_page_size = 4096;");
        try {
            sql::exec(db, "SELECT count(*) FROM sqlite_master;");
        } catch (const Error& e) {
            if (e.failure() != Failure::key_mismatch) throw;
            throw Error(Failure::key_mismatch, "the key does not open " + path.string() +
                                                   " (a key file of another database, or the database is damaged)");
        }
        return std::unique_ptr<Database>(new Database(db, options));
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
}

// On a throw the statements made so far are finalized as members; connect() closes the handle.
Database::Database(sqlite3* db, const DatabaseOptions& options) : db_(db) {
    sql::Statement wal(db_, "PRAGMA journal_mode = WAL;");
    if (!wal.step() || wal.column_string(0) != "wal") throw Error(Failure::io, "the database refused WAL mode");
    wal.reset();
    sql::exec(db_, options.durable_commits ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
    // Erased values are overwritten, not left in free pages for whoever gets the key later.
    sql::exec(db_, "PRAGMA secure_delete = ON;");
    migrate(db_, options.schema_version);
    if (veil::sqlcipher::schema_version(db_) < 1) return;
    put_ = std::make_unique<sql::Statement>(db_, "INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3);");
    get_ = std::make_unique<sql::Statement>(db_, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2;");
    erase_ = std::make_unique<sql::Statement>(db_, "DELETE FROM kv WHERE ns = ?1 AND key = ?2;");
    scan_ = std::make_unique<sql::Statement>(
        db_, "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4;");
    scan_open_ = std::make_unique<sql::Statement>(
        db_, "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 ORDER BY key LIMIT ?3;");
}

Database::~Database() {
    put_.reset();
    get_.reset();
    erase_.reset();
    scan_.reset();
    scan_open_.reset();
    sqlite3_close(db_);
}

void Database::write(std::string_view ns, std::string_view key, const wire::ByteView* value) {
    if (!put_) throw Error(Failure::bad_input, "the schema has no key/value table");
    sql::Statement& s = value ? *put_ : *erase_;
    sql::ScopedReset done(s);
    s.blob(1, ns).blob(2, key);
    if (value) s.blob(3, *value);
    s.step();
}

void Database::put(std::string_view ns, std::string_view key, wire::ByteView value) { write(ns, key, &value); }

void Database::erase(std::string_view ns, std::string_view key) { write(ns, key, nullptr); }

std::optional<wire::Bytes> Database::get(std::string_view ns, std::string_view key) {
    if (!get_) throw Error(Failure::bad_input, "the schema has no key/value table");
    sql::ScopedReset done(*get_);
    get_->blob(1, ns).blob(2, key);
    if (get_->step()) return get_->column_bytes(0);
    return std::nullopt;
}

sdk::storage::ScanReply Database::scan(std::string_view ns, std::string_view prefix, std::size_t limit) {
    if (!scan_) throw Error(Failure::bad_input, "the schema has no key/value table");
    auto upper = upper_bound_of(prefix);
    sql::Statement& s = upper.empty() ? *scan_open_ : *scan_;
    sql::ScopedReset done(s);
    // One row more than asked tells whether the answer was cut.
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max() - 1);
    auto want = static_cast<std::int64_t>(std::min(limit, kMax) + 1);
    s.blob(1, ns).blob(2, prefix);
    if (upper.empty()) {
        s.int64(3, want);
    } else {
        s.blob(3, upper).int64(4, want);
    }
    sdk::storage::ScanReply r;
    while (s.step()) {
        if (r.entries.size() == limit) {
            r.truncated = true;
            break;
        }
        r.entries.push_back({s.column_string(0), s.column_bytes(1)});
    }
    return r;
}

void Database::apply(const sdk::storage::Batch& batch) {
    for (const auto& op : batch.ops) {
        if (op.kind != BatchOp::Kind::put && op.kind != BatchOp::Kind::erase) {
            throw Error(Failure::bad_input, "batch: invalid operation kind");
        }
    }
    auto run = [&] {
        for (const auto& op : batch.ops) {
            if (op.kind == BatchOp::Kind::put) {
                put(op.ns, op.key, op.value);
            } else {
                erase(op.ns, op.key);
            }
        }
    };
    if (sql::autocommit(db_)) {
        sql::Transaction tx(db_);
        run();
        tx.commit();
    } else {
        // Inside a caller's transaction (a group commit): a savepoint keeps the batch whole.
        sql::Savepoint sp(db_);
        run();
        sp.release();
    }
}

void Database::rekey(const SecretBytes& key) {
    key_pragma(db_, "rekey", key);
    // Frames written under the old key must not outlive it in the -wal file.
    sql::exec(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
    if (veil::sqlcipher::schema_version(db_) >= 2) {
        sql::exec(db_, "INSERT OR REPLACE INTO meta (name, value) VALUES ('key_rotated_ms', "
                  "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));");
    }
}

int Database::schema_version() const { return veil::sqlcipher::schema_version(db_); }

}  // namespace veil::sqlcipher
