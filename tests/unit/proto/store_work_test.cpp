#include <catch2/catch.hpp>

#include <sodium.h>

#include <atomic>

#include "veil/proto/owner_auth.hpp"
#include "veil/proto/store_work.hpp"

using namespace veil::proto::node;

namespace {

constexpr std::uint64_t kDay = 24ULL * 3600 * 1000;

StoreRequest envelope(std::size_t bytes = 1000, std::uint64_t ttl_ms = 14 * kDay) {
    StoreRequest q;
    q.mailbox.fill(7);
    q.ttl_ms = ttl_ms;
    q.data.assign(bytes, 0x42);
    return q;
}

// The default quota: 10,000 messages, 100 MiB.
MailboxFill at(double fraction) {
    return MailboxFill{static_cast<std::uint64_t>(fraction * 10000), 0, 10000, 100ULL << 20};
}

}  // namespace

TEST_CASE("store work - free under a quarter of the quota, then steeply more", "[node][work]") {
    WorkPricing p;
    auto q = envelope();
    CHECK(required_store_work(p, at(0), q.data.size(), q.ttl_ms) == 0);
    CHECK(required_store_work(p, at(0.2499), q.data.size(), q.ttl_ms) == 0);
    auto w25 = required_store_work(p, at(0.25), q.data.size(), q.ttl_ms);
    auto w50 = required_store_work(p, at(0.5), q.data.size(), q.ttl_ms);
    auto w75 = required_store_work(p, at(0.75), q.data.size(), q.ttl_ms);
    auto w90 = required_store_work(p, at(0.9), q.data.size(), q.ttl_ms);
    auto w99 = required_store_work(p, at(0.99), q.data.size(), q.ttl_ms);
    CHECK(w25 == 16384);
    CHECK(w50 == 55296);   // 16384 x 1.5^3
    CHECK(w75 == 442368);  // 16384 x 3^3
    CHECK(w90 > 100 * w50);
    CHECK(w99 > 999 * w90);  // (0.75 / 0.01)^3 vs (0.75 / 0.1)^3
    // The last free slot costs the cap's order of magnitude; nothing overflows.
    auto full = required_store_work(p, at(1.0), q.data.size(), q.ttl_ms);
    CHECK(full > w99);
    CHECK(full <= kMaxStoreWork);
    CHECK(required_store_work(WorkPricing{0.25, 1e30, 3}, at(0.5), 10, q.ttl_ms) == kMaxStoreWork);
    CHECK(required_store_work(WorkPricing{1.0, 16384, 3}, at(1.0), 10, q.ttl_ms) == 0);  // pricing off
}

TEST_CASE("store work - bytes count as fill, and price scales with size and TTL", "[node][work]") {
    WorkPricing p;
    MailboxFill bytes_half{1, 50ULL << 20, 10000, 100ULL << 20};
    CHECK(required_store_work(p, bytes_half, 1000, 14 * kDay) == required_store_work(p, at(0.5), 1000, 14 * kDay));
    auto one_slot = required_store_work(p, at(0.5), 10000, 14 * kDay);
    auto eight_slots = required_store_work(p, at(0.5), 76800, 14 * kDay);
    CHECK(eight_slots == 8 * one_slot);
    auto week = required_store_work(p, at(0.5), 1000, 7 * kDay);
    CHECK(week * 2 == one_slot);
    // TTLs under an hour pay as an hour; still at least one hash once above the threshold.
    CHECK(required_store_work(p, at(0.5), 1000, 10'000) == required_store_work(p, at(0.5), 1000, 3600'000));
    CHECK(required_store_work(WorkPricing{0.25, 1, 3}, at(0.3), 1000, 10'000) == 1);
}

TEST_CASE("store work - a solved nonce verifies, and only for that store", "[node][work]") {
    auto q = envelope();
    auto hash = message_hash(q.mailbox, q.ns, q.data);
    CHECK(store_work_meets(q, hash, 0));
    CHECK_FALSE(store_work_meets(q, hash, 1));  // work asked: a nonce is needed
    REQUIRE(solve_store_work(q, 4096, nullptr, UINT64_MAX, 1'000));
    REQUIRE(q.work);
    CHECK(q.work->timestamp_ms == 1'000);
    CHECK(store_work_meets(q, hash, 4096));
    CHECK(store_work_meets(q, hash, 100));  // work for W covers any lower work
    CHECK(proven_store_work(q.mailbox, q.ns, hash, q.ttl_ms, *q.work) >= 4096);
    // Bound to mailbox, TTL and data: the same nonce on another store is an ordinary guess.
    int passes = 0;
    for (std::uint8_t b = 0; b < 64; ++b) {
        auto other = q;
        other.data[0] = b == 0x42 ? 0 : b;
        if (store_work_meets(other, message_hash(other.mailbox, other.ns, other.data), 4096)) ++passes;
    }
    CHECK(passes <= 2);
    auto longer = q;
    longer.ttl_ms += 1;
    auto moved = q;
    moved.mailbox[0] ^= 1;
    auto later = q;
    later.work->timestamp_ms += 1;  // the time is bound too: re-stamping it is a fresh guess
    CHECK((store_work_meets(longer, hash, 4096) ? 1 : 0) + (store_work_meets(moved, message_hash(moved.mailbox, 0, moved.data), 4096) ? 1 : 0) +
              (store_work_meets(later, hash, 4096) ? 1 : 0) <=
          1);
}

TEST_CASE("store work - a proof counts from its timestamp (within the clock window) until timestamp + TTL",
          "[node][work]") {
    constexpr std::uint64_t kWindow = 60'000;
    const StoreWork w{1'000'000, 0};
    CHECK(store_work_live(w, 10'000, 1'000'000, kWindow));
    CHECK(store_work_live(w, 10'000, 1'009'999, kWindow));
    CHECK_FALSE(store_work_live(w, 10'000, 1'010'000, kWindow));  // the stretch it bought is over
    CHECK(store_work_live(w, 10'000, 1'000'000 - kWindow, kWindow));
    CHECK_FALSE(store_work_live(w, 10'000, 1'000'000 - kWindow - 1, kWindow));  // from the future
}

TEST_CASE("store work - store auth kind 2 carries the proof to replicas", "[node][work]") {
    auto q = envelope();
    auto hash = message_hash(q.mailbox, q.ns, q.data);
    REQUIRE(solve_store_work(q, 4096, nullptr, UINT64_MAX, 5'000));
    auto auth = encode_work_auth(q);
    CHECK(auth.size() == 25);
    CHECK(auth[0] == kWorkStoreAuth);
    auto paid = open_work_auth(auth, q.mailbox, q.ns, hash);
    REQUIRE(paid);
    CHECK(paid->ttl_ms == q.ttl_ms);
    CHECK(paid->work == *q.work);
    CHECK(paid->proven_work >= 4096);
    // Another message, a cut or longer auth, another kind: nothing (or nothing proven).
    Hash other = hash;
    other[0] ^= 1;
    CHECK(open_work_auth(auth, q.mailbox, q.ns, other)->proven_work < 4096 * 64);
    CHECK_FALSE(open_work_auth(Bytes(auth.begin(), auth.end() - 1), q.mailbox, q.ns, hash));
    auto longer = auth;
    longer.push_back(0);
    CHECK_FALSE(open_work_auth(longer, q.mailbox, q.ns, hash));
    auto kind1 = auth;
    kind1[0] = kOwnerStoreAuth;
    CHECK_FALSE(open_work_auth(kind1, q.mailbox, q.ns, hash));
    q.work.reset();
    CHECK_THROWS(encode_work_auth(q));
}

TEST_CASE("store work - the work hash follows the documented layout", "[node][work]") {
    auto q = envelope(3);
    auto hash = message_hash(q.mailbox, q.ns, q.data);
    veil::wire::Writer w;
    w.raw(veil::wire::ByteView(reinterpret_cast<const std::uint8_t*>(kStoreWorkDomain.data()), kStoreWorkDomain.size()));
    w.raw(q.mailbox).u16(q.ns).raw(hash).u64(q.ttl_ms).u64(1234).u64(99);
    auto in = w.take();
    CHECK(in.size() <= 128);  // one BLAKE2b block
    Hash expect{};
    crypto_generichash(expect.data(), expect.size(), in.data(), in.size(), nullptr, 0);
    CHECK(store_work_hash(q, hash, StoreWork{1234, 99}) == expect);
}

TEST_CASE("store work - solving stops when asked or out of tries", "[node][work]") {
    auto q = envelope();
    std::atomic<bool> stop{true};
    CHECK_FALSE(solve_store_work(q, kMaxStoreWork, &stop));
    CHECK_FALSE(solve_store_work(q, kMaxStoreWork, nullptr, 1000));
    CHECK_FALSE(q.work);
}
