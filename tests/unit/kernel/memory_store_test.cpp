// storage/memory's MemoryStore against the storage contract, directly and over the bus.
#include <catch2/catch.hpp>

#include <optional>

#include "support/loop.hpp"
#include "memory_store.hpp"
#include "veil/sdk/context.hpp"

using namespace veil::sdk;
using namespace veil::sdk::storage;
using veil::memory::MemoryStore;
using veil::test::TestLoop;

namespace {
Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
template <class T>
T sync(const std::function<void(std::function<void(Result<T>)>)>& call) {
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out.emplace(std::move(r)); });
    REQUIRE(out.has_value());  // memory completes before returning
    REQUIRE(out->ok());
    return std::move(*out).value();
}
}  // namespace

TEST_CASE("memory - put, get, erase and scan by prefix in key order", "[kernel][storage]") {
    MemoryStore s(1 << 20);
    for (auto k : {"m/2", "m/1", "n/1", "m/3"}) {
        sync<Done>([&](auto d) { s.put({"ns", k, b(k)}, d); });
    }
    sync<Done>([&](auto d) { s.put({"other", "m/9", b("x")}, d); });
    auto g = sync<GetReply>([&](auto d) { s.get({"ns", "m/2"}, d); });
    CHECK(g.value == b("m/2"));
    CHECK_FALSE(sync<GetReply>([&](auto d) { s.get({"ns", "zz"}, d); }).value);
    auto sc = sync<ScanReply>([&](auto d) { s.scan({"ns", "m/", 2}, d); });
    REQUIRE(sc.entries.size() == 2);
    CHECK(sc.entries[0].key == "m/1");
    CHECK(sc.entries[1].key == "m/2");
    CHECK(sc.truncated);
    sync<Done>([&](auto d) { s.erase({"ns", "m/1"}, d); });
    sc = sync<ScanReply>([&](auto d) { s.scan({"ns", "m/", 10}, d); });
    CHECK(sc.entries.size() == 2);
    CHECK_FALSE(sc.truncated);
}

TEST_CASE("memory - a batch is atomic and the byte budget is enforced", "[kernel][storage]") {
    MemoryStore s(20);
    sync<Done>([&](auto d) { s.put({"ns", "a", b("0123456789")}, d); });  // 11 bytes
    std::optional<Error> err;
    s.put({"ns", "b", b("0123456789")}, [&](Result<Done> r) { err = r.error(); });
    CHECK(err->code == ErrorCode::refused);
    // Replacing a value counts only the difference.
    sync<Done>([&](auto d) { s.put({"ns", "a", b("01234567890123456")}, d); });
    CHECK(s.used_bytes() == 18);
    Batch too_big{{{BatchOp::Kind::erase, "ns", "a", {}}, {BatchOp::Kind::put, "ns", "c", b("x")},
                   {BatchOp::Kind::put, "ns", "d", Bytes(30, 1)}}};
    err.reset();
    s.batch(too_big, [&](Result<Done> r) { err = r.error(); });
    REQUIRE(err);
    CHECK(sync<GetReply>([&](auto d) { s.get({"ns", "a"}, d); }).value.has_value());  // nothing applied
    CHECK_FALSE(sync<GetReply>([&](auto d) { s.get({"ns", "c"}, d); }).value.has_value());
    Batch fits{{{BatchOp::Kind::erase, "ns", "a", {}}, {BatchOp::Kind::put, "ns", "c", Bytes(15, 1)}}};
    sync<Done>([&](auto d) { s.batch(fits, d); });
    CHECK(s.used_bytes() == 16);
}

TEST_CASE("memory - the storage contract is served over the bus", "[kernel][storage]") {
    TestLoop loop;
    {
        Bus bus(loop.get());
        CommandRegistry commands;
        MemoryStore store(1 << 20);
        Context ctx({loop.get(), &bus, &commands, "memory", {}, "/nonexistent", nullptr});
        serve_storage(ctx, store);
        bool put_done = false;
        std::optional<Bytes> value;
        REQUIRE(bus.request<Put>({"ns", "k", b("v")}, 1000, [&](Result<Done> r) { put_done = r.ok(); }));
        REQUIRE(bus.request<Get>({"ns", "k"}, 1000, [&](Result<GetReply> r) { value = r.value().value; }));
        REQUIRE(loop.run_until([&] { return put_done && value; }));
        CHECK(*value == b("v"));
    }
    CHECK(loop.close() == 0);
}
