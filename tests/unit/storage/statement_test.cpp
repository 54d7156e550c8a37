// veil::sql, the one SQLite wrapper (sdk/sql): binding, reading, resetting, typed errors.
#include <catch2/catch.hpp>

#include <sqlcipher/sqlite3.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "veil/sql/statement.hpp"

using namespace veil::sql;

namespace {
struct Db {
    sqlite3* h = nullptr;
    Db() { REQUIRE(sqlite3_open(":memory:", &h) == SQLITE_OK); }
    ~Db() { sqlite3_close(h); }
};
}  // namespace

TEST_CASE("sql - statements bind, step and read; an empty blob is not NULL", "[storage][sql]") {
    Db db;
    exec(db.h, "CREATE TABLE t (k BLOB, v INTEGER);");
    {
        Statement ins(db.h, "INSERT INTO t (k, v) VALUES (?1, ?2);");
        std::array<std::uint8_t, 4> key{1, 2, 3, 4};
        ins.blob(1, veil::wire::ByteView(key)).uint64(2, UINT64_MAX);
        CHECK_FALSE(ins.step());
        ins.reset();
        ins.blob(1, std::string_view()).int64(2, -5);
        CHECK_FALSE(ins.step());
    }
    Statement q(db.h, "SELECT k, v, k IS NULL FROM t ORDER BY rowid;");
    REQUIRE(q.step());
    CHECK(q.column_array<4>(0) == std::array<std::uint8_t, 4>{1, 2, 3, 4});
    CHECK(q.column_array<3>(0) == std::array<std::uint8_t, 3>{});  // wrong size: zeros
    CHECK(q.column_uint64(1) == UINT64_MAX);
    REQUIRE(q.step());
    CHECK(q.column_size(0) == 0);
    CHECK(q.column_int64(2) == 0);
    CHECK(q.column_int64(1) == -5);
    CHECK_FALSE(q.step());
}

TEST_CASE("sql - ScopedReset ends a read; a transaction rolls back unless committed", "[storage][sql]") {
    Db db;
    exec(db.h, "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);");
    Statement q(db.h, "SELECT v FROM t ORDER BY v;");
    {
        ScopedReset done(q);
        REQUIRE(q.step());
        CHECK(q.column_int64(0) == 1);
    }
    REQUIRE(q.step());  // from the first row again
    CHECK(q.column_int64(0) == 1);
    q.reset();
    {
        Transaction tx(db.h);
        exec(db.h, "DELETE FROM t;");
    }
    Statement n(db.h, "SELECT count(*) FROM t;");
    REQUIRE(n.step());
    CHECK(n.column_int64(0) == 2);
    CHECK(autocommit(db.h));
}

TEST_CASE("sql - failures are typed errors", "[storage][sql]") {
    Db db;
    CHECK_THROWS_AS(Statement(db.h, "SELECT nonsense FROM nowhere;"), Error);
    try {
        exec(db.h, "CREATE TABLE t (v INTEGER UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1);");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.failure() == Failure::io);
    }
    try {
        throw_sqlite(db.h, SQLITE_NOTADB, "open");
    } catch (const Error& e) {
        CHECK(e.failure() == Failure::key_mismatch);
    }
}
