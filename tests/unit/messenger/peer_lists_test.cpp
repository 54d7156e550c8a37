#include <catch2/catch.hpp>

#include "peer_lists.hpp"
#include "veil/crypto/error.hpp"

using namespace veil;
using namespace veil::messenger;

namespace {
constexpr std::uint64_t kNow = 1'700'000'000'000;

struct Person {
    crypto::Identity identity = crypto::Identity::generate();
    crypto::DeviceKeys phone = crypto::DeviceKeys::generate();
    crypto::DeviceKeys tablet = crypto::DeviceKeys::generate();
    crypto::DeviceList v1 = crypto::DeviceList{}.with_device(identity, phone, kNow);
    crypto::DeviceList v2 = v1.with_device(identity, tablet, kNow);
    crypto::DeviceList v3 = v2.with_revoked(identity, tablet.signing_key(), kNow);
};
}  // namespace

TEST_CASE("messenger - peer lists: never back to a lower version, the revoked mark holds", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    PeerLists lists;
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::unknown);
    CHECK(lists.stale(id, kNow, 1000));
    CHECK(lists.accept(id, bob.v2, kNow)->version() == 2);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::active);
    CHECK(lists.accept(id, bob.v3, kNow + 10)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    // A swarm member answering with an older list: ignored, and the list is not counted as checked.
    CHECK(lists.accept(id, bob.v2, kNow + 5000)->version() == 3);
    CHECK(lists.accept(id, bob.v1, kNow + 5000)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    CHECK(lists.stale(id, kNow + 5000, 1000));
    // The same version again confirms it.
    CHECK(lists.accept(id, bob.v3, kNow + 5000)->version() == 3);
    CHECK_FALSE(lists.stale(id, kNow + 5500, 1000));
    // Someone else's list is not Bob's.
    Person mallory;
    CHECK(lists.accept(id, mallory.v3.with_device(mallory.identity, crypto::DeviceKeys::generate(), kNow), kNow)->version() == 3);
    CHECK_FALSE(lists.accept(mallory.identity.veil_id(), bob.v3, kNow));
    // Saved and loaded: the same lists, the same marks.
    auto loaded = PeerLists::decode(lists.encode());
    CHECK(loaded.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    CHECK(loaded.find(id)->checked_ms == kNow + 5000);
    CHECK(loaded.encode() == lists.encode());
}

TEST_CASE("messenger - peer lists: bounded, lists that revoke nothing are evicted first", "[messenger]") {
    Person bob;
    PeerLists lists;
    (void)lists.accept(bob.identity.veil_id(), bob.v3, kNow);  // the oldest, but it revokes a device
    for (std::size_t i = 0; i < kMaxPeerLists + 10; ++i) {
        auto id = crypto::Identity::generate();
        (void)lists.accept(id.veil_id(), crypto::DeviceList{}.with_device(id, crypto::DeviceKeys::generate(), kNow), kNow + 1 + i);
    }
    CHECK(lists.all().size() == kMaxPeerLists);
    CHECK(lists.state(bob.identity.veil_id(), bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
}

TEST_CASE("messenger - peer lists: a damaged stored record is skipped, the others load", "[messenger]") {
    Person bob, carol;
    PeerLists lists;
    (void)lists.accept(bob.identity.veil_id(), bob.v3, kNow);
    (void)lists.accept(carol.identity.veil_id(), carol.v3, kNow);
    auto bytes = lists.encode();
    auto cut = bytes;
    cut.pop_back();
    CHECK_THROWS_AS(PeerLists::decode(cut), wire::DecodeError);  // the framing itself: nothing to skip to
    auto unknown = bytes;
    unknown[0] = 9;
    CHECK_THROWS_AS(PeerLists::decode(unknown), wire::DecodeError);
    // One record's list signature damaged (the last byte is the second record's): that list is
    // skipped, the other one loads with its revoked mark.
    auto forged = bytes;
    forged[forged.size() - 1] ^= 1;
    std::size_t skipped = 0;
    PeerLists loaded;
    REQUIRE_NOTHROW(loaded = PeerLists::decode(forged, &skipped));
    CHECK(skipped == 1);
    CHECK(loaded.all().size() == 1);
    // Whichever survived still holds its revoked tablet.
    for (const auto* p : {&bob, &carol}) {
        if (loaded.find(p->identity.veil_id())) {
            CHECK(loaded.state(p->identity.veil_id(), p->tablet.signing_key()) == PeerLists::DeviceState::revoked);
        }
    }
}

// Issue 14 review (HIGH): 256 strangers' lists that each revoke a device used to push out a
// contact's list carrying the revocation of his stolen tablet; with only a stale member left,
// the old list then became the floor and the tablet was active again.
TEST_CASE("messenger - peer lists: strangers' lists never evict a contact's", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    auto keep = [&](const crypto::VeilId& p) { return p == id; };
    PeerLists lists;
    REQUIRE(lists.accept(id, bob.v3, kNow, keep)->version() == 3);  // the oldest list, Bob's
    for (std::size_t i = 0; i < 2 * kMaxPeerLists; ++i) {
        Person stranger;
        (void)lists.accept(stranger.identity.veil_id(), stranger.v3, kNow + 1 + i, keep);
    }
    CHECK(lists.all().size() == kMaxPeerLists + 1);  // the strangers' quota, and Bob's on top
    REQUIRE(lists.find(id));
    // Only the stale member answers: its older list is below the floor, the tablet stays revoked.
    CHECK(lists.accept(id, bob.v2, kNow + 10'000, keep)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
}

TEST_CASE("messenger - peer lists: a new list is kept even when every held list revokes a device", "[messenger]") {
    // 256 strangers' lists that each revoke a device rank above any list that revokes nothing; the
    // list just taken must still be held and returned (it used to be evicted at once, and the
    // lookup after it threw, which stopped receiving and sending).
    PeerLists lists;
    for (std::size_t i = 0; i < kMaxPeerLists; ++i) {
        Person stranger;
        (void)lists.accept(stranger.identity.veil_id(), stranger.v3, kNow + i);
    }
    Person carol;
    std::optional<crypto::DeviceList> taken;
    REQUIRE_NOTHROW(taken = lists.accept(carol.identity.veil_id(), carol.v1, kNow + kMaxPeerLists));
    REQUIRE(taken);
    CHECK(taken->version() == carol.v1.version());
    CHECK(lists.all().size() == kMaxPeerLists);
    CHECK(lists.state(carol.identity.veil_id(), carol.phone.signing_key()) == PeerLists::DeviceState::active);
}
