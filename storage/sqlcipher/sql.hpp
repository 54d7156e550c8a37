#pragma once
// Thin RAII helpers over the SQLite C API (SQLCipher's build of it): statements, exec and
// transactions that turn every failure into Error. One connection, one thread.
#include <cstdint>
#include <string>
#include <string_view>

#include "veil/wire/codec.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace veil::sqlcipher {

/// Throws the Error matching SQLite result `rc` ("disk full", "not a database", ...).
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

/// Runs SQL without results; throws on failure.
void exec(sqlite3* db, const std::string& sql);

/// A prepared statement. reset() clears bindings and makes it reusable.
class Statement final {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Binds bytes as a BLOB (never NULL, also when empty); `data` must outlive the step.
    Statement& blob(int index, const void* data, std::size_t size);
    Statement& blob(int index, std::string_view s) { return blob(index, s.data(), s.size()); }
    Statement& blob(int index, wire::ByteView b) { return blob(index, b.data(), b.size()); }
    Statement& int64(int index, std::int64_t v);
    /// True for a row, false when done; throws on error.
    bool step();
    /// Column accessors for the current row.
    [[nodiscard]] std::int64_t column_int64(int index) const;
    [[nodiscard]] wire::Bytes column_bytes(int index) const;
    [[nodiscard]] std::string column_string(int index) const;
    /// Resets for the next use and drops the bindings.
    void reset();

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// SAVEPOINT now (nests inside a transaction); ROLLBACK TO + RELEASE on destruction unless
/// release() ran, which undoes only what was done since.
class Savepoint final {
public:
    explicit Savepoint(sqlite3* db);
    ~Savepoint();
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void release();

private:
    sqlite3* db_;
    bool open_ = true;
};

/// True when no transaction is open (SQLite may roll one back by itself on I/O errors).
bool autocommit(sqlite3* db);

/// BEGIN IMMEDIATE now; ROLLBACK on destruction unless commit() ran.
class Transaction final {
public:
    explicit Transaction(sqlite3* db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    sqlite3* db_;
    bool open_ = true;
};

}  // namespace veil::sqlcipher
