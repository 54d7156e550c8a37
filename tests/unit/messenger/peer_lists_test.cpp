#include <algorithm>

#include <catch2/catch.hpp>

#include "peer_lists.hpp"
#include "published.hpp"
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

TEST_CASE("messenger - peer lists: a different list of the same version does not confirm the held one", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    PeerLists lists;
    CHECK(lists.accept(id, bob.v3, kNow)->version() == 3);
    // Signed by the identity at version 3 too, but another list (a thief or a fork): not a
    // confirmation, so the held list still counts as unchecked.
    auto other = bob.v2.with_device(bob.identity, crypto::DeviceKeys::generate(), kNow);
    REQUIRE(other.version() == 3);
    REQUIRE(other.encode() != bob.v3.encode());
    CHECK(lists.accept(id, other, kNow + 5000)->version() == 3);
    CHECK(lists.stale(id, kNow + 5000, 1000));
    CHECK(lists.accept(id, bob.v3, kNow + 5000)->version() == 3);
    CHECK_FALSE(lists.stale(id, kNow + 5000, 1000));
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
    // The framing cut short in the last record: the record before it loads, that one is skipped.
    auto cut = bytes;
    cut.pop_back();
    std::size_t cut_skipped = 0;
    CHECK(PeerLists::decode(cut, &cut_skipped).all().size() == 1);
    CHECK(cut_skipped == 1);
    auto unknown = bytes;
    unknown[0] = 9;
    CHECK_THROWS_AS(PeerLists::decode(unknown), wire::DecodeError);
    // One record's list signature damaged (the second record's ends before its revoked key, a
    // u16 count and 32 bytes): that list is skipped, the other one loads with its revoked mark.
    auto forged = bytes;
    forged[forged.size() - 1 - (2 + 32)] ^= 1;
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

// Issue 14 review (LOW): damaged framing in one record threw away every held list (and with them
// the revoked marks); the records before the damage now load.
TEST_CASE("messenger - peer lists: damaged framing costs the records from the damage on", "[messenger]") {
    std::vector<Person> people(5);
    PeerLists lists;
    for (auto& p : people) (void)lists.accept(p.identity.veil_id(), p.v3, kNow);
    auto bytes = lists.encode();
    const std::size_t header = 3, record = (bytes.size() - header) / people.size();
    REQUIRE(header + record * people.size() == bytes.size());
    // Cut inside the third record's length: two load, three are skipped.
    wire::Bytes cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header + 2 * record + 9));
    std::size_t skipped = 0;
    PeerLists loaded;
    REQUIRE_NOTHROW(loaded = PeerLists::decode(cut, &skipped));
    CHECK(loaded.all().size() == 2);
    CHECK(skipped == 3);
    for (const auto& [peer, held] : loaded.all()) {
        for (const auto& p : people) {
            if (p.identity.veil_id() == peer) CHECK(loaded.state(peer, p.tablet.signing_key()) == PeerLists::DeviceState::revoked);
        }
    }
    // Bytes after the last record: every list loads, the damage is counted.
    auto longer = bytes;
    longer.push_back(0);
    skipped = 0;
    CHECK(PeerLists::decode(longer, &skipped).all().size() == people.size());
    CHECK(skipped == 1);
}

TEST_CASE("messenger - peer lists: the stalest lists are read again first, a bounded number", "[messenger]") {
    PeerLists lists;
    std::vector<crypto::VeilId> ids;
    for (std::uint64_t i = 0; i < 40; ++i) {
        Person p;
        ids.push_back(p.identity.veil_id());
        (void)lists.accept(ids.back(), p.v1, kNow + i * 1000);  // checked one second apart
    }
    // At kNow + 50 s with a 20 s period, lists checked up to kNow + 30 s are stale (31 of them).
    auto due = lists.stalest(kNow + 50'000, 20'000, 10);
    REQUIRE(due.size() == 10);
    for (std::size_t i = 0; i < due.size(); ++i) CHECK(due[i] == ids[i]);
    CHECK(lists.stalest(kNow + 50'000, 20'000, 100).size() == 31);
    CHECK(lists.stalest(kNow, 20'000, 100).empty());
}

// Issue 14 review (HIGH): a list of a higher version that names a device active after a held
// version named it revoked (a restore signed on a stale list) brings nothing back.
TEST_CASE("messenger - peer lists: a revoked device is never active again, whatever the version", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    PeerLists lists;
    REQUIRE(lists.accept(id, bob.v3, kNow)->version() == 3);
    // Built on v2 (the tablet active) with a new device, signed far above v3.
    auto laptop = crypto::DeviceKeys::generate();
    auto rollback = bob.v2.with_device(bob.identity, laptop, kNow + 1000, kNow + 1000);
    REQUIRE(rollback.version() > 3);
    CHECK(lists.accept(id, rollback, kNow + 2000)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    CHECK(lists.state(id, laptop.signing_key()) == PeerLists::DeviceState::unknown);
    // Honest growth on v3 still goes through, and the mark stays after a reload.
    auto v4 = bob.v3.with_device(bob.identity, laptop, kNow + 3000);
    CHECK(lists.accept(id, v4, kNow + 3000)->version() == 4);
    auto reloaded = PeerLists::decode(lists.encode());
    CHECK(reloaded.accept(id, rollback.with_device(bob.identity, crypto::DeviceKeys::generate(), kNow, kNow + 9000),
                          kNow + 9000)->version() == 4);
}

// Issue 14 review (MEDIUM): strangers whose lists cannot be read any more stayed the stalest by
// their last answer and took every place of each tick: contacts were never read again.
TEST_CASE("messenger - peer lists: failing strangers do not crowd contacts out of the refresh", "[messenger]") {
    PeerLists lists;
    std::vector<crypto::VeilId> strangers;
    for (int i = 0; i < 40; ++i) {
        Person p;
        strangers.push_back(p.identity.veil_id());
        (void)lists.accept(strangers.back(), p.v1, kNow);
    }
    Person carol;
    const auto& contact = carol.identity.veil_id();
    (void)lists.accept(contact, carol.v1, kNow + 1000);  // checked after every stranger
    auto keep = [&](const crypto::VeilId& p) { return p == contact; };
    auto due = lists.stalest(kNow + 60'000, 20'000, 8, keep);
    REQUIRE(due.size() == 8);
    CHECK(due.front() == contact);
    // Every stranger read now fails (no answer): the next tick takes those not tried yet.
    for (const auto& p : due) lists.tried(p, kNow + 60'000);
    auto next = lists.stalest(kNow + 61'000, 20'000, 8);
    REQUIRE(next.size() == 8);
    for (const auto& p : next) CHECK(std::find(due.begin(), due.end(), p) == due.end());
}

// Issue 14: a list signed far ahead of the clock (a thief holding the seed) would otherwise be the
// newest for ever: the revocation after it could never replace it.
TEST_CASE("messenger - peer lists: a hostile list from the future is refused, later honest lists still taken",
          "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    PeerLists lists;
    REQUIRE(lists.accept(id, bob.v2, kNow)->version() == 2);
    constexpr std::uint64_t kTenYearsMs = 10ULL * 365 * 24 * 3600 * 1000;
    auto thief = crypto::DeviceKeys::generate();
    auto future = bob.v2.with_device(bob.identity, thief, kNow, kNow + kTenYearsMs);
    CHECK(lists.accept(id, future, kNow + 1)->version() == 2);
    CHECK(lists.state(id, thief.signing_key()) == PeerLists::DeviceState::unknown);
    // Readers do not pick it out of a swarm's answers either: the honest revocation wins.
    auto chosen = newest_device_list(id, {future.encode(), bob.v3.encode(), bob.v2.encode()}, kNow + 2);
    REQUIRE(chosen);
    CHECK(chosen->version() == 3);
    CHECK(lists.accept(id, *chosen, kNow + 2)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
}

TEST_CASE("messenger - peer lists: only lists from the future read is a clock error, not no list", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    constexpr std::uint64_t kHourMs = 3600ULL * 1000;
    auto future = bob.v1.with_device(bob.identity, bob.tablet, kNow, kNow + 30 * kHourMs);
    CHECK_FALSE(newest_device_list(id, {future.encode()}, kNow));
    auto error = device_list_clock_error(id, {future.encode()}, kNow);
    REQUIRE(error);
    CHECK(*error == "a device list is signed 30 h ahead of this clock; check the clock");
    // A usable list read along with it, or none that verifies: no clock error.
    CHECK_FALSE(device_list_clock_error(id, {future.encode(), bob.v1.encode()}, kNow));
    CHECK_FALSE(device_list_clock_error(id, {bob.v1.encode()}, kNow));
    Person mallory;
    auto foreign = mallory.v1.with_device(mallory.identity, mallory.tablet, kNow, kNow + 30 * kHourMs);
    CHECK_FALSE(device_list_clock_error(id, {foreign.encode()}, kNow));
    CHECK_FALSE(device_list_clock_error(id, {}, kNow));
}

TEST_CASE("messenger - peer lists: a stored blob of format 1 (no revoked keys) still loads", "[messenger]") {
    Person bob;
    wire::Writer w;
    w.u8(1).u16(1);
    w.u64(kNow + 7).var(bob.v3.encode());
    auto loaded = PeerLists::decode(w.take());
    REQUIRE(loaded.all().size() == 1);
    const auto* held = loaded.find(bob.identity.veil_id());
    REQUIRE(held);
    CHECK(held->list.encode() == bob.v3.encode());
    CHECK(held->checked_ms == kNow + 7);
    // The marks come from the list itself.
    CHECK(loaded.state(bob.identity.veil_id(), bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
}

// Issue 14 review (fork after restore): a device of Bob's restored from an old backup signed
// its own version 3, naming active the tablet another device's version 3 revokes. Alice holds the
// fork; the revoking list of the same version (or any older one) still marks the tablet, and a
// later list that no longer names it (a new chain) does not make it unknown.
TEST_CASE("messenger - peer lists: a revocation holds from any signed list, at any version", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    auto laptop = crypto::DeviceKeys::generate();
    auto fork = bob.v2.with_device(bob.identity, laptop, kNow);  // version 3, the tablet active
    REQUIRE(fork.version() == bob.v3.version());
    PeerLists lists;
    REQUIRE(lists.accept(id, fork, kNow)->version() == 3);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::active);
    // The same version, another list: not taken, but its revocation holds.
    CHECK(lists.accept(id, bob.v3, kNow + 1)->encode() == fork.encode());
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    CHECK(lists.state(id, laptop.signing_key()) == PeerLists::DeviceState::active);
    // An older list's revocation too.
    PeerLists other;
    auto newer = fork.with_device(bob.identity, crypto::DeviceKeys::generate(), kNow);
    REQUIRE(other.accept(id, newer, kNow));
    (void)other.accept(id, bob.v3, kNow);
    CHECK(other.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    // A later list that forgets the tablet (a chain started again) leaves it revoked, not unknown.
    auto restarted = crypto::DeviceList{}.with_device(bob.identity, crypto::DeviceKeys::generate(), kNow, 100);
    REQUIRE(lists.accept(id, restarted, kNow + 2)->version() == 100);
    CHECK(lists.state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    CHECK(lists.state(id, laptop.signing_key()) == PeerLists::DeviceState::unknown);
    // Saved and loaded, the mark stays.
    CHECK(PeerLists::decode(lists.encode()).state(id, bob.tablet.signing_key()) == PeerLists::DeviceState::revoked);
    // Someone else's list marks nothing.
    Person mallory;
    (void)lists.accept(id, mallory.v3, kNow + 3);
    CHECK(lists.state(id, mallory.tablet.signing_key()) == PeerLists::DeviceState::unknown);
}

TEST_CASE("messenger - peer lists: past the cap of revoked marks the oldest goes, the newest holds", "[messenger]") {
    RevokedMarks marks;
    std::vector<crypto::PublicKey> keys;
    for (std::size_t i = 0; i < kMaxRevokedKept + 10; ++i) {
        keys.push_back(crypto::DeviceKeys::generate().signing_key());
        marks.add(keys.back());
        marks.add(keys.back());  // again: no second place
    }
    CHECK(marks.size() == kMaxRevokedKept);
    CHECK(marks.contains(keys.back()));  // the newest revocation always holds
    for (std::size_t i = 0; i < 10; ++i) CHECK_FALSE(marks.contains(keys[i]));
    CHECK(marks.contains(keys[10]));
    CHECK(marks.oldest_first().front() == keys[10]);
}

TEST_CASE("messenger - peer lists: the marks keep their age across a save", "[messenger]") {
    Person bob;
    const auto& id = bob.identity.veil_id();
    // Eight devices revoked in the order added: their keys' order is another (1 in 40,320 alike).
    auto list = bob.v1;
    std::vector<crypto::PublicKey> added;
    for (int i = 0; i < 8; ++i) {
        auto d = crypto::DeviceKeys::generate();
        list = list.with_device(bob.identity, d, kNow);
        added.push_back(d.signing_key());
    }
    for (const auto& k : added) list = list.with_revoked(bob.identity, k, kNow);
    PeerLists lists;
    REQUIRE(lists.accept(id, list, kNow));
    REQUIRE(lists.find(id)->revoked.oldest_first() == added);
    auto loaded = PeerLists::decode(lists.encode());
    REQUIRE(loaded.find(id));
    CHECK(loaded.find(id)->revoked.oldest_first() == lists.find(id)->revoked.oldest_first());
    CHECK(loaded.encode() == lists.encode());
    // Format 2 (the keys in key order) still loads, its marks with it.
    wire::Writer w;
    w.u8(2).u16(1).u64(kNow).var(bob.v1.encode()).u16(1).raw(added.front());
    CHECK(PeerLists::decode(w.take()).state(id, added.front()) == PeerLists::DeviceState::revoked);
}
