#include <catch2/catch.hpp>

#include "account.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;

std::vector<wire::Bytes> blobs_in(const std::vector<proto::node::StoreRequest>& stores, std::uint16_t ns) {
    std::vector<wire::Bytes> out;
    for (const auto& s : stores) {
        if (s.ns == ns) out.push_back(s.data);
    }
    return out;
}
}  // namespace

TEST_CASE("messenger - readers take the newest device list that verifies", "[messenger]") {
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto v1 = blobs_in(alice.publish_requests(kNow), kDeviceListNamespace);
    auto phrase = alice.identity().recovery_phrase();
    auto second = Account::create(crypto::Identity::from_phrase(phrase.str()), alice.device_list(), kNow + 1);
    auto v2 = blobs_in(second.publish_requests(kNow + 1), kDeviceListNamespace);
    auto mallory = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto forged = blobs_in(mallory.publish_requests(kNow), kDeviceListNamespace);

    std::vector<wire::Bytes> all{v2[0], forged[0], v1[0], wire::Bytes{1, 2, 3}};
    auto got = newest_device_list(alice.id(), all, kNow);
    REQUIRE(got);
    CHECK(got->version() == second.device_list().version());
    CHECK(got->entries().size() == 2);
    CHECK_FALSE(newest_device_list(alice.id(), forged, kNow));
}

TEST_CASE("messenger - readers keep only bundles of listed devices, newest first", "[messenger]") {
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto first = blobs_in(alice.publish_requests(kNow), kBundleNamespace);
    auto mallory = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto foreign = blobs_in(mallory.publish_requests(kNow), kBundleNamespace);
    auto got = newest_bundles(alice.id(), alice.device_list(), {foreign[0], first[0], wire::Bytes{9}}, kNow);
    REQUIRE(got.size() == 1);
    CHECK(got.begin()->first == alice.device().signing_key());
    // A week later the signed pre-key rotates: the new bundle wins whatever the order.
    auto later = blobs_in(alice.publish_requests(kNow + 8ULL * 24 * 3600 * 1000), kBundleNamespace);
    auto now = kNow + 8ULL * 24 * 3600 * 1000;
    auto a = newest_bundles(alice.id(), alice.device_list(), {later[0], first[0]}, now);
    auto b = newest_bundles(alice.id(), alice.device_list(), {first[0], later[0]}, now);
    CHECK(a.begin()->second.signed_prekey.id == 2);
    CHECK(b.begin()->second.signed_prekey.id == 2);
}

#include "outbox.hpp"

TEST_CASE("messenger - the outbox entry keeps every pending store", "[messenger]") {
    std::vector<proto::node::StoreRequest> stores{{proto::node::PublicKey{1}, 0, 60'000, {1, 2, 3}},
                                           {proto::node::PublicKey{2}, 0x8002, 10'000, {}}};
    MessageId id{7};
    auto op = outbox_op(id, stores);
    CHECK(op.key == "out/07000000000000000000000000000000");
    auto back = decode_outbox(op.value);
    REQUIRE(back.size() == 2);
    CHECK(back[1].mailbox == stores[1].mailbox);
    CHECK(back[0].data == stores[0].data);
    CHECK(back[1].ns == 0x8002);
    CHECK(back[0].ttl_ms == 60'000);
    for (std::size_t cut = 0; cut < op.value.size(); ++cut) {
        CHECK_THROWS_AS(decode_outbox(wire::ByteView(op.value.data(), cut)), wire::DecodeError);
    }
}

TEST_CASE("messenger - a queued message keeps its recipient and text", "[messenger]") {
    auto to = crypto::Identity::generate().veil_id();
    auto m = make_text("queued text", 42);
    auto op = queued_op(to, m);
    CHECK(op.key.rfind("q/000000000000002a/", 0) == 0);
    auto [who, back] = decode_queued(op.value);
    CHECK(who == to);
    CHECK(back == m);
    for (std::size_t cut = 0; cut < op.value.size(); ++cut) {
        CHECK_THROWS_AS(decode_queued(wire::ByteView(op.value.data(), cut)), wire::DecodeError);
    }
}

namespace {
std::vector<proto::node::MessageItem> items_of(const std::vector<wire::Bytes>& blobs) {
    std::vector<proto::node::MessageItem> out;
    std::uint8_t n = 0;
    for (const auto& b : blobs) {
        proto::node::MessageItem i;
        i.hash.fill(++n);
        i.data = b;
        out.push_back(i);
    }
    return out;
}
}  // namespace

TEST_CASE("messenger - publishing supersedes older lists and own bundles, never other devices' bundles",
          "[messenger]") {
    auto alice = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto first = alice.publish_requests(kNow);
    auto phrase = alice.identity().recovery_phrase();
    auto second = Account::create(crypto::Identity::from_phrase(phrase.str()), alice.device_list(), kNow + 1);
    auto from_second = second.publish_requests(kNow + 1);
    auto mallory = Account::create(crypto::Identity::generate(), std::nullopt, kNow);
    auto forged = mallory.publish_requests(kNow);

    // Lists: v1 (older) and the forgery go, v2 stays.
    auto lists = items_of({blobs_in(first, kDeviceListNamespace)[0], blobs_in(from_second, kDeviceListNamespace)[0],
                           blobs_in(forged, kDeviceListNamespace)[0]});
    auto gone = superseded_lists(alice.id(), second.device_list(), lists);
    CHECK(gone == std::vector<proto::node::Hash>{lists[0].hash, lists[2].hash});

    // Bundles: the first device republishes (a top-up); its old bundle and junk go, the second
    // device's bundle stays.
    auto old_bundle = blobs_in(first, kBundleNamespace)[0];
    auto again = alice.publish_requests(kNow + 8ULL * 24 * 3600 * 1000);  // a week later: a rotated signed pre-key
    auto current = blobs_in(again, kBundleNamespace)[0];
    REQUIRE(current != old_bundle);
    auto bundles = items_of({old_bundle, blobs_in(from_second, kBundleNamespace)[0], current, wire::Bytes{9, 9}});
    auto stale = superseded_bundles(alice.id(), alice.device().signing_key(), current, bundles, kNow + 8ULL * 24 * 3600 * 1000);
    CHECK(stale == std::vector<proto::node::Hash>{bundles[0].hash, bundles[3].hash});
}

TEST_CASE("messenger - a disappearing timer is the envelopes' swarm TTL, within the node's limits", "[messenger]") {
    CHECK(swarm_ttl_ms(0) == kPublishTtlMs);
    CHECK(swarm_ttl_ms(2) == kMinDisappearingTtlMs);
    CHECK(swarm_ttl_ms(3600) == 3'600'000);
    CHECK(swarm_ttl_ms(kMaxDisappearS) == kPublishTtlMs);
}
