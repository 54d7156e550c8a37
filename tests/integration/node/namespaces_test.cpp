// Who may write each namespace (docs/service-node.md §Who may write each namespace), on real
// node processes: a stranger only drops envelopes; the public namespaces (device lists, pre-key
// bundles) take owner-signed stores only; quotas count per namespace; an owner's re-store
// extends the expiry; strangers' envelopes pay work once the namespace is a quarter full.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "node_call.hpp"
#include "support/testnet_fixture.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/proto/store_work.hpp"

using namespace veil::proto::node;
using namespace std::chrono_literals;
using veil::test::Testnet;

namespace {

using Rpc = veil::test::CheckedRpc;
using veil::test::call_ready;
using Owner = veil::test::MailboxOwner;


StoreRequest store_of(const Owner& o, std::uint16_t ns, std::uint64_t ttl_ms, Bytes data) {
    return StoreRequest{o.key.pub, ns, ttl_ms, std::move(data)};
}

// Every item of a public namespace (unsigned reads), one page (the reader's default size).
std::vector<MessageItem> first_page(Rpc& rpc, std::uint16_t port, const PublicKey& mailbox, std::uint16_t ns) {
    auto r = call_ready(rpc, port, RetrieveRequest{mailbox, ns, PageQuery{}, {}});
    REQUIRE(r.status == Status::ok);
    return std::get<PageResponse>(r.body).messages;
}

}  // namespace

TEST_CASE("node integration - a stranger cannot store into the device-list or bundle namespace",
          "[node][integration]") {
    Testnet net(1, 1);
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    for (auto ns : {kDeviceListNamespace, kBundleNamespace, std::uint16_t{0x1234}}) {
        INFO(ns);
        auto junk = call_ready(rpc, port, store_of(bob, ns, 600'000, Bytes(100, 7)));
        CHECK(junk.status == Status::unauthorized);
        // Signed by someone else: not the owner either.
        Owner mallory;
        RequestBody forged = store_of(bob, ns, 600'000, Bytes(100, 8));
        std::get<StoreRequest>(forged).auth = std::get<StoreRequest>(mallory.sign(store_of(mallory, ns, 600'000, Bytes(100, 8)))).auth;
        CHECK(call_ready(rpc, port, forged).status == Status::bad_signature);
        // The owner's signed store goes in.
        auto own = call_ready(rpc, port, bob.sign(store_of(bob, ns, 600'000, Bytes(100, 9))));
        CHECK(own.status == Status::ok);
    }
    // Envelopes stay open to anyone.
    CHECK(call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 600'000, Bytes(100, 1))).status == Status::ok);
    CHECK(first_page(rpc, port, bob.key.pub, kDeviceListNamespace).size() == 1);
}

TEST_CASE("node integration - 20 large junk stores cannot hide a new device list", "[node][integration]") {
    Testnet net(1, 1);
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    std::size_t refused = 0;
    for (int i = 0; i < 20; ++i) {
        Bytes junk(76'800, static_cast<std::uint8_t>(i));
        if (call_ready(rpc, port, store_of(bob, kDeviceListNamespace, 600'000, junk)).status != Status::ok) ++refused;
    }
    CHECK(refused == 20);
    Bytes list(300, 0x42);
    auto stored = call_ready(rpc, port, bob.sign(store_of(bob, kDeviceListNamespace, 600'000, list)));
    REQUIRE(stored.status == Status::ok);
    auto page = first_page(rpc, port, bob.key.pub, kDeviceListNamespace);
    REQUIRE(page.size() == 1);
    CHECK(page[0].data == list);
}

TEST_CASE("node integration - a stranger's flood of one namespace cannot block the mailbox's envelopes",
          "[node][integration]") {
    // Pricing off (work_free_fraction=1), so the flood can fill the envelope namespace's quota.
    Testnet net(1, 1, {"max_messages_per_mailbox=50", "work_free_fraction=1"});
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    // The attack of issue 13: stores into a namespace Bob never reads (0x1234 = 4660).
    for (int i = 0; i < 50; ++i) (void)call_ready(rpc, port, store_of(bob, 0x1234, 600'000, {static_cast<std::uint8_t>(i)}));
    auto real = call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 600'000, Bytes(64, 1)));
    CHECK(real.status == Status::ok);
    // Filling the envelope namespace itself does not block the owner's device list either.
    for (int i = 0; i < 60; ++i)
        (void)call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 600'000, {static_cast<std::uint8_t>(i), 2}));
    CHECK(call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 600'000, Bytes(64, 3))).status == Status::quota_exceeded);
    CHECK(call_ready(rpc, port, bob.sign(store_of(bob, kDeviceListNamespace, 600'000, Bytes(64, 4)))).status == Status::ok);
}

TEST_CASE("node integration - a device list re-stored by its owner outlives its first expiry", "[node][integration]") {
    Testnet net(1, 1, {"min_ttl_ms=1000"});
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    Bytes list(200, 0x17);
    constexpr std::uint64_t kTtl = 3'000;
    auto first = call_ready(rpc, port, bob.sign(store_of(bob, kDeviceListNamespace, kTtl, list)));
    REQUIRE(first.status == Status::ok);
    auto first_expiry = std::get<StoreResponse>(first.body).expiry_ms;
    std::this_thread::sleep_for(1500ms);
    auto again = call_ready(rpc, port, bob.sign(store_of(bob, kDeviceListNamespace, kTtl, list)));
    REQUIRE(again.status == Status::ok);
    const auto& answer = std::get<StoreResponse>(again.body);
    CHECK_FALSE(answer.newly_stored);
    CHECK(answer.expiry_ms > first_expiry);
    // Past the first copy's expiry: still there, with the answered expiry.
    while (veil::test::now_ms() < first_expiry + 500) std::this_thread::sleep_for(100ms);
    auto page = first_page(rpc, port, bob.key.pub, kDeviceListNamespace);
    REQUIRE(page.size() == 1);
    CHECK(page[0].data == list);
    CHECK(page[0].expiry_ms == answer.expiry_ms);
    // A stranger's re-store of envelope bytes never moves the expiry; the answer says so.
    auto env = call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 600'000, Bytes(10, 5)));
    auto env_again = call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, 1'200'000, Bytes(10, 5)));
    REQUIRE(env_again.status == Status::ok);
    CHECK(std::get<StoreResponse>(env_again.body).expiry_ms == std::get<StoreResponse>(env.body).expiry_ms);
}

TEST_CASE("node integration - a flood of free envelopes stops at a quarter of the quota; a sender who pays "
          "gets through", "[node][integration][work]") {
    Testnet net(1, 1, {"max_messages_per_mailbox=40", "work_base_hashes=4096"});
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    constexpr std::uint64_t kTtl = 14ULL * 24 * 3600 * 1000;
    // Mallory floods Bob's envelope namespace and pays no work.
    int stored = 0;
    int priced = 0;
    for (int i = 0; i < 100; ++i) {
        auto r = call_ready(rpc, port, store_of(bob, kEnvelopeNamespace, kTtl, Bytes(200, static_cast<std::uint8_t>(i))));
        if (r.status == Status::ok) ++stored;
        if (r.status == Status::pow_required) ++priced;
    }
    CHECK(stored == 10);
    CHECK(priced == 90);
    // Alice's envelope: the node names the price, she pays it, it is stored.
    auto alice = store_of(bob, kEnvelopeNamespace, kTtl, Bytes(300, 0xA1));
    auto asked = call_ready(rpc, port, alice);
    REQUIRE(asked.status == Status::pow_required);
    auto work = std::get<WorkRequiredResponse>(asked.body).work;
    CHECK(work >= 4096);
    REQUIRE(solve_store_work(alice, work));
    REQUIRE(call_ready(rpc, port, alice).status == Status::ok);
    auto inbox = call_ready(rpc, port, bob.sign(RetrieveRequest{bob.key.pub, kEnvelopeNamespace, PageQuery{}, {}}));
    REQUIRE(inbox.status == Status::ok);
    const auto& items = std::get<PageResponse>(inbox.body).messages;
    CHECK(items.size() == 11);
    CHECK(std::any_of(items.begin(), items.end(), [&](const MessageItem& m) { return m.data == alice.data; }));
}

TEST_CASE("node integration - a solved nonce re-sent after its message expired is priced again",
          "[node][integration][work]") {
    Testnet net(1, 1, {"max_messages_per_mailbox=40", "min_ttl_ms=1000"});
    auto port = net.ports()[0];
    Rpc rpc;
    Owner bob;
    // Half full: bob's own signed stores (free, and they count).
    for (std::uint8_t i = 0; i < 20; ++i)
        REQUIRE(call_ready(rpc, port, bob.sign(store_of(bob, kEnvelopeNamespace, 600'000, Bytes{'b', i}))).status == Status::ok);
    // Mallory pays once for a 1-second junk envelope.
    auto junk = store_of(bob, kEnvelopeNamespace, 1'000, Bytes(100, 0x6A));
    auto asked = call_ready(rpc, port, junk);
    REQUIRE(asked.status == Status::pow_required);
    REQUIRE(solve_store_work(junk, std::get<WorkRequiredResponse>(asked.body).work));
    auto paid = call_ready(rpc, port, junk);
    REQUIRE(paid.status == Status::ok);
    const auto expiry = std::get<StoreResponse>(paid.body).expiry_ms;
    CHECK(expiry <= veil::test::now_ms() + 1'000);
    // Past its expiry, the same bytes with the same nonce: the stretch it bought is over.
    while (veil::test::now_ms() < expiry + 200) std::this_thread::sleep_for(100ms);
    CHECK(call_ready(rpc, port, junk).status == Status::pow_required);
}
