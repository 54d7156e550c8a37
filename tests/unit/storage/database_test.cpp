// The encrypted database: the storage contract's operations on a real file, no plaintext on
// disk, the key checked before anything is written, and schema migrations.
#include <sqlcipher/sqlite3.h>

#include <catch2/catch.hpp>

#include "database.hpp"
#include "error.hpp"
#include "schema.hpp"
#include "veil/sql/statement.hpp"
#include "storage_test_support.hpp"

using namespace veil::sqlcipher;
using namespace veil::test;
using veil::crypto::SecretBytes;
using veil::sdk::storage::Batch;
using veil::sdk::storage::BatchOp;

namespace {
Failure failure_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.failure();
    }
    FAIL("no error");
    return Failure::io;
}
}  // namespace

TEST_CASE("storage - put, get, erase and prefix scans in byte order on a database file", "[storage]") {
    StorageDir dir;
    auto key = SecretBytes::random(32);
    auto db = Database::create(dir / "t.db", key);
    CHECK(db->schema_version() == latest_schema_version());
    db->put("ns", "m/2", bytes_of("two"));
    db->put("ns", "m/1", bytes_of("one"));
    db->put("ns", "n/1", bytes_of("other prefix"));
    db->put("other", "m/0", bytes_of("other namespace"));
    db->put("ns", "m/3", {});  // empty values are values, not absence
    CHECK(db->get("ns", "m/1") == bytes_of("one"));
    CHECK(db->get("ns", "m/3") == veil::wire::Bytes{});
    CHECK_FALSE(db->get("ns", "m/9").has_value());
    db->put("ns", "m/1", bytes_of("uno"));
    CHECK(db->get("ns", "m/1") == bytes_of("uno"));

    auto sc = db->scan("ns", "m/", 2);
    REQUIRE(sc.entries.size() == 2);
    CHECK(sc.entries[0].key == "m/1");
    CHECK(sc.entries[1].key == "m/2");
    CHECK(sc.truncated);
    sc = db->scan("ns", "m/", 3);
    CHECK(sc.entries.size() == 3);
    CHECK_FALSE(sc.truncated);
    CHECK(db->scan("ns", "", 100).entries.size() == 4);
    CHECK(db->scan("ns", "m/", 0).truncated);

    db->erase("ns", "m/1");
    db->erase("ns", "never there");
    CHECK_FALSE(db->get("ns", "m/1").has_value());
}

TEST_CASE("storage - keys and namespaces are binary-safe and prefixes ending in 0xff work", "[storage]") {
    StorageDir dir;
    auto db = Database::create(dir / "t.db", SecretBytes::random(32));
    std::string ns("\0n\xff", 3);
    std::vector<std::string> keys = {std::string("\xff", 1), std::string("\xff\xff", 2), std::string("\xff\x00", 2),
                                     std::string("\xfe\xff", 2), std::string("\x00", 1), std::string("a\x00z", 3)};
    for (const auto& k : keys) db->put(ns, k, bytes_of(k));
    for (const auto& k : keys) CHECK(db->get(ns, k) == bytes_of(k));
    auto sc = db->scan(ns, std::string("\xff", 1), 10);
    REQUIRE(sc.entries.size() == 3);
    CHECK(sc.entries[0].key == std::string("\xff", 1));
    CHECK(sc.entries[1].key == std::string("\xff\x00", 2));
    CHECK(sc.entries[2].key == std::string("\xff\xff", 2));
    sc = db->scan(ns, std::string("\xfe", 1), 10);
    REQUIRE(sc.entries.size() == 1);
    CHECK(sc.entries[0].key == std::string("\xfe\xff", 2));
    CHECK(db->scan(ns, "", 10).entries.front().key == std::string("\x00", 1));
    CHECK(db->scan(std::string("\0n", 2), "", 10).entries.empty());
}

TEST_CASE("storage - a batch applies every operation or none", "[storage]") {
    StorageDir dir;
    auto db = Database::create(dir / "t.db", SecretBytes::random(32));
    db->put("ns", "a", bytes_of("1"));
    Batch good{{{BatchOp::Kind::erase, "ns", "a", {}},
                {BatchOp::Kind::put, "ns", "b", bytes_of("2")},
                {BatchOp::Kind::put, "ns", "b", bytes_of("3")}}};
    db->apply(good);
    CHECK_FALSE(db->get("ns", "a").has_value());
    CHECK(db->get("ns", "b") == bytes_of("3"));

    Batch bad{{{BatchOp::Kind::put, "ns", "c", bytes_of("4")}, {static_cast<BatchOp::Kind>(7), "ns", "d", {}}}};
    CHECK(failure_of([&] { db->apply(bad); }) == Failure::bad_input);
    CHECK_FALSE(db->get("ns", "c").has_value());

    // A failure inside the transaction (a value SQLite refuses) rolls back what came before.
    sqlite3_limit(db->handle(), SQLITE_LIMIT_LENGTH, 1000);
    Batch too_big{{{BatchOp::Kind::put, "ns", "e", bytes_of("5")},
                   {BatchOp::Kind::put, "ns", "f", veil::wire::Bytes(5000, 1)}}};
    CHECK(failure_of([&] { db->apply(too_big); }) == Failure::too_large);
    CHECK_FALSE(db->get("ns", "e").has_value());
    db->put("ns", "g", bytes_of("the database still works"));
    CHECK(db->get("ns", "g").has_value());
}

TEST_CASE("storage - the database, its WAL and shm hold no plaintext", "[storage]") {
    StorageDir dir;
    auto path = dir / "t.db";
    const std::string marker = "MARKER-plaintext-message-body-4a1f";
    {
        auto db = Database::create(path, SecretBytes::random(32));
        for (int i = 0; i < 200; ++i) db->put("messages", marker + "/key/" + std::to_string(i), bytes_of(marker + " value"));
        // While open, the newest pages are in the -wal file.
        auto wal = file_bytes(dir / "t.db-wal");
        CHECK(wal.size() > 0);
        for (const auto& f : {file_bytes(path), wal, file_bytes(dir / "t.db-shm")}) {
            CHECK(f.find(marker) == std::string::npos);
            CHECK(f.find("SQLite format 3") == std::string::npos);
            CHECK(f.find("CREATE TABLE") == std::string::npos);
        }
    }
    auto f = file_bytes(path);
    CHECK(f.size() > 4096);
    CHECK(f.find(marker) == std::string::npos);
    CHECK(f.find("SQLite format 3") == std::string::npos);
    CHECK(f.find("messages") == std::string::npos);
}

TEST_CASE("storage - a wrong key is refused before anything is written", "[storage]") {
    StorageDir dir;
    auto path = dir / "t.db";
    auto key = SecretBytes::random(32);
    Database::create(path, key)->put("ns", "k", bytes_of("v"));
    auto before = file_bytes(path);
    REQUIRE_FALSE(std::filesystem::exists(dir / "t.db-wal"));  // checkpointed at close
    CHECK(failure_of([&] { Database::open(path, SecretBytes::random(32)); }) == Failure::key_mismatch);
    CHECK(file_bytes(path) == before);
    CHECK_FALSE(std::filesystem::exists(dir / "t.db-wal"));
    CHECK_FALSE(std::filesystem::exists(dir / "t.db-shm"));
    CHECK(Database::open(path, key)->get("ns", "k") == bytes_of("v"));
    // Nor is something that is not a database at all.
    write_text(dir / "junk.db", std::string(8192, 'j'));
    CHECK(failure_of([&] { Database::open(dir / "junk.db", key); }) == Failure::key_mismatch);
    CHECK(failure_of([&] { Database::create(path, key); }) == Failure::bad_input);
}

TEST_CASE("storage - rekey re-encrypts every page and leaves no old-key frames in the WAL", "[storage]") {
    StorageDir dir;
    auto path = dir / "t.db";
    auto k1 = SecretBytes::random(32), k2 = SecretBytes::random(32);
    {
        auto db = Database::create(path, k1);
        for (int i = 0; i < 100; ++i) db->put("ns", std::to_string(i), veil::wire::Bytes(300, static_cast<std::uint8_t>(i)));
        db->rekey(k2);
        CHECK(file_bytes(dir / "t.db-wal").size() < 100000);
        CHECK(db->get("ns", "42") == veil::wire::Bytes(300, 42));
    }
    CHECK(failure_of([&] { Database::open(path, k1); }) == Failure::key_mismatch);
    auto db = Database::open(path, k2);
    for (int i = 0; i < 100; ++i) CHECK(db->get("ns", std::to_string(i)) == veil::wire::Bytes(300, static_cast<std::uint8_t>(i)));
}

TEST_CASE("storage - an older schema is migrated and its data kept", "[storage]") {
    StorageDir dir;
    auto path = dir / "t.db";
    auto key = SecretBytes::random(32);
    {
        DatabaseOptions v1;
        v1.schema_version = 1;
        auto db = Database::create(path, key, v1);
        CHECK(db->schema_version() == 1);
        db->put("contacts", "05ab", bytes_of("Alice"));
        // Version 1 has no meta table.
        CHECK_THROWS_AS(veil::sql::exec(db->handle(), "SELECT * FROM meta;"), Error);
    }
    auto db = Database::open(path, key);
    CHECK(db->schema_version() == latest_schema_version());
    CHECK(db->get("contacts", "05ab") == bytes_of("Alice"));
    veil::sql::Statement created(db->handle(), "SELECT value FROM meta WHERE name = 'created_ms';");
    REQUIRE(created.step());
    CHECK(created.column_int64(0) > 1700000000000);
}

TEST_CASE("storage - a database from a newer Veil is refused and left alone", "[storage]") {
    StorageDir dir;
    auto path = dir / "t.db";
    auto key = SecretBytes::random(32);
    {
        auto db = Database::create(path, key);
        veil::sql::exec(db->handle(), "PRAGMA user_version = 99;");
    }
    auto before = file_bytes(path);
    try {
        Database::open(path, key);
        FAIL("opened a newer schema");
    } catch (const Error& e) {
        CHECK(e.failure() == Failure::schema_too_new);
        CHECK_THAT(e.what(), Catch::Contains("schema version 99") && Catch::Contains("upgrade Veil"));
    }
    CHECK(file_bytes(path) == before);
}
