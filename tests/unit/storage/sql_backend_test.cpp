// SqlBackend: the storage contract over the bus on a real encrypted file, in order, with the
// SQL on the store thread and completions on the loop thread.
#include <catch2/catch.hpp>

#include <sqlcipher/sqlite3.h>

#include <thread>

#include "sql_backend.hpp"
#include "storage_test_support.hpp"
#include "veil/sdk/context.hpp"

using namespace veil::sdk;
using namespace veil::sdk::storage;
using namespace veil::sqlcipher;
using namespace veil::test;

namespace {
VaultOptions fast() {
    VaultOptions o;
    o.wrap = veil::crypto::WrapParams::minimum();
    o.database.durable_commits = false;
    return o;
}
}  // namespace

TEST_CASE("storage - the storage contract round-trips over the bus on an encrypted file", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    StorageLoop loop;
    {
        Bus bus(loop.get());
        CommandRegistry commands;
        SqlBackend backend(loop.get());
        backend.open(path, nullptr, fast());
        Context ctx({loop.get(), &bus, &commands, "sqlcipher", {}, dir.path(), nullptr});
        serve_storage(ctx, backend);

        int writes = 0;
        auto count = [&](Result<Done> r) {
            REQUIRE(r.ok());
            ++writes;
        };
        REQUIRE(bus.request<Put>({"contacts", "05aa", bytes_of("Alice")}, 5000, count));
        REQUIRE(bus.request<Put>({"contacts", "05bb", bytes_of("Bob")}, 5000, count));
        REQUIRE(bus.request<Put>({"contacts", "05cc", bytes_of("Carol")}, 5000, count));
        REQUIRE(bus.request<Erase>({"contacts", "05bb"}, 5000, count));
        REQUIRE(bus.request<Batch>({{{BatchOp::Kind::put, "messages", "1", bytes_of("hi")},
                                     {BatchOp::Kind::put, "messages", "2", bytes_of("there")}}},
                                   5000, count));
        std::optional<GetReply> alice, bob;
        std::optional<ScanReply> scan;
        REQUIRE(bus.request<Get>({"contacts", "05aa"}, 5000, [&](Result<GetReply> r) { alice = r.value(); }));
        REQUIRE(bus.request<Get>({"contacts", "05bb"}, 5000, [&](Result<GetReply> r) { bob = r.value(); }));
        REQUIRE(bus.request<Scan>({"contacts", "05", 10}, 5000, [&](Result<ScanReply> r) { scan = r.value(); }));
        std::optional<veil::sdk::Error> bad;
        REQUIRE(bus.request<Batch>({{{static_cast<BatchOp::Kind>(0), "x", "y", {}}}}, 5000,
                                   [&](Result<Done> r) { bad = r.error(); }));
        REQUIRE(loop.run_until([&] { return writes == 5 && alice && bob && scan && bad; }));
        CHECK(alice->value == bytes_of("Alice"));
        CHECK_FALSE(bob->value.has_value());
        REQUIRE(scan->entries.size() == 2);
        CHECK(scan->entries[1].value == bytes_of("Carol"));
        CHECK(bad->code == ErrorCode::bad_input);
        backend.close();
    }
    CHECK(loop.close() == 0);
    // The data is on disk: a fresh backend reads it back.
    StorageLoop loop2;
    {
        SqlBackend backend(loop2.get());
        backend.open(path, nullptr, fast());
        std::optional<GetReply> got;
        backend.get({"messages", "2"}, [&](Result<GetReply> r) { got = r.value(); });
        REQUIRE(loop2.run_until([&] { return got.has_value(); }));
        CHECK(got->value == bytes_of("there"));
    }
    CHECK(loop2.close() == 0);
}

TEST_CASE("storage - operations complete in order, on the loop thread, and close finishes queued writes", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    StorageLoop loop;
    const auto loop_thread = std::this_thread::get_id();
    std::vector<int> order;
    bool all_on_loop = true;
    {
        SqlBackend backend(loop.get());
        backend.open(path, nullptr, fast());
        for (int i = 0; i < 300; ++i) {
            auto done = [&, i](Result<Done> r) {
                REQUIRE(r.ok());
                all_on_loop = all_on_loop && std::this_thread::get_id() == loop_thread;
                order.push_back(i);
            };
            if (i % 3 == 0) {
                backend.batch({{{BatchOp::Kind::put, "n", std::to_string(i), bytes_of("v")}}}, done);
            } else {
                backend.put({"n", std::to_string(i), bytes_of("v")}, done);
            }
        }
        // close() without running the loop: queued writes still finish and every callback runs.
        backend.close();
        std::optional<veil::sdk::Error> late;
        backend.put({"n", "late", {}}, [&](Result<Done> r) { late = r.error(); });
        REQUIRE(late);
        CHECK(late->code == ErrorCode::closed);
    }
    REQUIRE(order.size() == 300);
    for (int i = 0; i < 300; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
    CHECK(all_on_loop);
    CHECK(loop.close() == 0);
    auto v = Vault::open(path, nullptr, fast());
    CHECK(v->db().scan("n", "", 1000).entries.size() == 300);
}

TEST_CASE("storage - open errors reach the caller and the backend stays closed", "[storage]") {
    StorageDir dir;
    auto path = dir / "veil.db";
    auto pp = secret("pw");
    Vault::open(path, &pp, fast());
    StorageLoop loop;
    {
        SqlBackend backend(loop.get());
        CHECK_THROWS_AS(backend.open(path, nullptr, fast()), veil::sqlcipher::Error);
        std::optional<veil::sdk::Error> err;
        backend.get({"a", "b"}, [&](Result<GetReply> r) { err = r.error(); });
        REQUIRE(loop.run_until([&] { return err.has_value(); }));
        CHECK(err->code == ErrorCode::closed);
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("storage - writes queued together commit together, yet reads see exactly what came before them", "[storage]") {
    StorageDir dir;
    StorageLoop loop;
    {
        SqlBackend backend(loop.get());
        backend.open(dir / "veil.db", nullptr, fast());
        // A read between two writes of one key sees the first, though the writes may share a commit.
        std::vector<std::string> seen;
        int writes_ok = 0;
        auto ok = [&](Result<Done> r) { writes_ok += r.ok() ? 1 : 0; };
        auto read = [&](Result<GetReply> r) {
            seen.push_back(r.value().value ? std::string(r.value().value->begin(), r.value().value->end()) : "-");
        };
        backend.get({"n", "k"}, read);
        backend.put({"n", "k", bytes_of("1")}, ok);
        backend.put({"n", "other", bytes_of("x")}, ok);
        backend.get({"n", "k"}, read);
        backend.put({"n", "k", bytes_of("2")}, ok);
        backend.erase({"n", "other"}, ok);
        backend.batch({{{BatchOp::Kind::put, "n", "k", bytes_of("3")}}}, ok);
        backend.get({"n", "k"}, read);
        REQUIRE(loop.run_until([&] { return seen.size() == 3; }));
        CHECK(seen == std::vector<std::string>{"-", "1", "3"});
        CHECK(writes_ok == 5);

        // One write that fails inside a group fails alone; its neighbours commit.
        bool limited = false;
        backend.with_vault([](Vault& v) { sqlite3_limit(v.db().handle(), SQLITE_LIMIT_LENGTH, 2000); },
                           [&](Status s) { limited = s.ok(); });
        REQUIRE(loop.run_until([&] { return limited; }));
        std::vector<std::optional<ErrorCode>> results;
        auto record = [&](Result<Done> r) { results.push_back(r.ok() ? std::nullopt : std::optional(r.error().code)); };
        backend.put({"g", "a", bytes_of("small")}, record);
        backend.put({"g", "b", Bytes(5000, 1)}, record);
        backend.batch({{{BatchOp::Kind::put, "g", "c", bytes_of("c")}, {BatchOp::Kind::put, "g", "d", Bytes(5000, 1)}}},
                      record);
        backend.put({"g", "e", bytes_of("small")}, record);
        std::optional<ScanReply> after;
        backend.scan({"g", "", 10}, [&](Result<ScanReply> r) { after = r.value(); });
        REQUIRE(loop.run_until([&] { return after.has_value(); }));
        REQUIRE(results.size() == 4);
        CHECK_FALSE(results[0]);
        CHECK(results[1] == ErrorCode::too_large);
        CHECK(results[2] == ErrorCode::too_large);
        CHECK_FALSE(results[3]);
        REQUIRE(after->entries.size() == 2);  // a and e; not b, and not c (its batch failed whole)
        CHECK(after->entries[0].key == "a");
        CHECK(after->entries[1].key == "e");
    }
    CHECK(loop.close() == 0);
}
