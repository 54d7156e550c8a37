#pragma once
/// Thin RAII helpers over the SQLite C API of SQLCipher (the one SQLite of every Veil process):
/// prepared statements, exec, transactions and savepoints, every failure thrown as sql::Error.
/// One connection is used by one thread at a time; so is each Statement.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "veil/sql/error.hpp"
#include "veil/wire/codec.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace veil::sql {

/// Throws the Error matching SQLite result `rc` ("disk full", "not a database", ...); `what`
/// names the step.
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

/// Runs SQL without results; throws on failure.
void exec(sqlite3* db, const std::string& sql);

/// A prepared statement, finalized on destruction. reset() drops the bindings and makes it
/// reusable; a statement kept for reuse is reset after each call (see ScopedReset), so that a
/// read holds no snapshot of the database afterwards.
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
    /// The same 64 bits as a signed integer (timestamps, counters).
    Statement& uint64(int index, std::uint64_t v) { return int64(index, static_cast<std::int64_t>(v)); }
    /// True for a row, false when done; throws on error.
    bool step();
    /// Column accessors for the current row.
    [[nodiscard]] std::int64_t column_int64(int index) const;
    [[nodiscard]] std::uint64_t column_uint64(int index) const { return static_cast<std::uint64_t>(column_int64(index)); }
    /// The column's size in bytes (0 for NULL).
    [[nodiscard]] std::size_t column_size(int index) const;
    [[nodiscard]] wire::Bytes column_bytes(int index) const;
    [[nodiscard]] std::string column_string(int index) const;
    /// A fixed-size BLOB (a key, a hash); all zeros when the column has another size.
    template <std::size_t N>
    [[nodiscard]] std::array<std::uint8_t, N> column_array(int index) const {
        std::array<std::uint8_t, N> out{};
        copy_column(index, out.data(), N);
        return out;
    }
    /// Resets for the next use and drops the bindings.
    void reset();

private:
    void copy_column(int index, std::uint8_t* out, std::size_t size) const;
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// Resets a statement when the scope ends, on a throw too.
class ScopedReset final {
public:
    explicit ScopedReset(Statement& s) : s_(s) {}
    ~ScopedReset() { s_.reset(); }
    ScopedReset(const ScopedReset&) = delete;
    ScopedReset& operator=(const ScopedReset&) = delete;

private:
    Statement& s_;
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

}  // namespace veil::sql
