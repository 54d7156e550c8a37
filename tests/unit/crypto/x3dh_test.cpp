#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/x3dh.hpp"

using namespace veil::crypto;

namespace {
constexpr std::uint64_t now = 1'700'000'000'000;
constexpr std::uint64_t day = 24 * 3600 * 1000ULL;

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}

struct Party {
    Identity identity = Identity::generate();
    DeviceKeys device = DeviceKeys::generate();
    PreKeyStore store;
    DeviceCertificate cert = DeviceCertificate::issue(identity, device, now);
};
}  // namespace

TEST_CASE("crypto - a pre-key bundle round-trips and verifies against the identity", "[crypto]") {
    Party bob;
    bob.store.rotate_signed_prekey(bob.device, now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, 5);
    auto bundle = PreKeyBundle::decode(bob.store.bundle(bob.cert, 3).encode());
    CHECK(bundle.one_time_prekeys.size() == 3);
    CHECK_NOTHROW(bundle.verify(bob.identity.veil_id(), now));
    CHECK(kind_of([&] { bundle.verify(Identity::generate().veil_id(), now); }) == ErrorKind::untrusted_key);
    CHECK(kind_of([&] { bundle.verify(bob.identity.veil_id(), now + 31 * day); }) == ErrorKind::expired);

    auto forged = bundle;
    forged.one_time_prekeys[1].key = DhKeyPair::generate().pub;
    CHECK(kind_of([&] { forged.verify(bob.identity.veil_id(), now); }) == ErrorKind::bad_signature);
    forged = bundle;
    forged.signed_prekey.key = DhKeyPair::generate().pub;
    CHECK(kind_of([&] { forged.verify(bob.identity.veil_id(), now); }) == ErrorKind::bad_signature);

    auto bytes = bundle.encode();
    bytes.push_back(0);
    CHECK(kind_of([&] { PreKeyBundle::decode(bytes); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - X3DH with four DHs gives both sides the same secret and AD", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, 2);
    auto bundle = bob.store.bundle(bob.cert, 10);
    auto init = x3dh_initiate(alice.device, bundle, bob.identity.veil_id(), now);
    REQUIRE(init.header.one_time_prekey_id.has_value());
    auto header = X3dhHeader::decode(init.header.encode());
    CHECK(header == init.header);
    auto resp = x3dh_respond(bob.device, bob.store, header);
    CHECK(resp.shared_key.equals(init.shared_key.view()));
    CHECK(resp.associated_data == init.associated_data);
    CHECK(init.associated_data.size() == 64);
    // IK_A || IK_B
    CHECK(std::equal(alice.device.dh_key().begin(), alice.device.dh_key().end(), init.associated_data.begin()));

    // Once used, the key leaves the bundle at once; a second sender who picked it from a stale
    // bundle still gets through during the grace period, and after it the secret is gone.
    auto unused = bob.store.one_time_count();
    bob.store.consume_one_time_prekey(*header.one_time_prekey_id, now);
    CHECK(bob.store.one_time_count() == unused - 1);
    for (const auto& k : bob.store.bundle(bob.cert, 100).one_time_prekeys) CHECK(k.id != *header.one_time_prekey_id);
    auto again = x3dh_respond(bob.device, bob.store, header);
    CHECK(again.shared_key.equals(init.shared_key.view()));
    auto restored = PreKeyStore::deserialize(bob.store.serialize().view());
    CHECK(restored.one_time_count() == unused - 1);
    bob.store.expire(now + PreKeyStore::used_one_time_grace_ms);
    CHECK(kind_of([&] { x3dh_respond(bob.device, bob.store, header); }) == ErrorKind::no_prekey);
}

TEST_CASE("crypto - X3DH falls back to three DHs when one-time keys ran out", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, now, 30 * day);
    auto bundle = bob.store.bundle(bob.cert, 10);
    REQUIRE(bundle.one_time_prekeys.empty());
    auto init = x3dh_initiate(alice.device, bundle, bob.identity.veil_id(), now);
    CHECK_FALSE(init.header.one_time_prekey_id.has_value());
    auto resp = x3dh_respond(bob.device, bob.store, init.header);
    CHECK(resp.shared_key.equals(init.shared_key.view()));
}

TEST_CASE("crypto - rotated signed pre-keys still answer during the grace period", "[crypto]") {
    Party alice, bob;
    auto old_spk = bob.store.rotate_signed_prekey(bob.device, now, 30 * day);
    auto bundle = bob.store.bundle(bob.cert, 0);
    auto init = x3dh_initiate(alice.device, bundle, bob.identity.veil_id(), now);
    auto new_spk = bob.store.rotate_signed_prekey(bob.device, now + 29 * day, 30 * day);
    CHECK(new_spk.id != old_spk.id);
    CHECK(bob.store.bundle(bob.cert, 0).signed_prekey.id == new_spk.id);
    CHECK(x3dh_respond(bob.device, bob.store, init.header).shared_key.equals(init.shared_key.view()));
    bob.store.expire(now + 30 * day + PreKeyStore::signed_prekey_grace_ms);
    CHECK(kind_of([&] { x3dh_respond(bob.device, bob.store, init.header); }) == ErrorKind::no_prekey);
}

TEST_CASE("crypto - the pre-key store survives storage", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, 4);
    auto bundle = bob.store.bundle(bob.cert, 10);
    auto init = x3dh_initiate(alice.device, bundle, bob.identity.veil_id(), now);
    auto restored = PreKeyStore::deserialize(bob.store.serialize().view());
    CHECK(restored.one_time_count() == 4);
    CHECK(x3dh_respond(bob.device, restored, init.header).shared_key.equals(init.shared_key.view()));
    // New ids keep counting after a restore.
    auto more = restored.generate_one_time_prekeys(bob.device, 1);
    CHECK(more.front().id == 5);
    CHECK(kind_of([&] { PreKeyStore::deserialize(veil::wire::Bytes{1, 2, 3}); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - X3DH refuses a bundle signed for another identity", "[crypto]") {
    Party alice, bob, mallory;
    mallory.store.rotate_signed_prekey(mallory.device, now, 30 * day);
    auto bundle = mallory.store.bundle(mallory.cert, 1);
    CHECK(kind_of([&] { x3dh_initiate(alice.device, bundle, bob.identity.veil_id(), now); }) == ErrorKind::untrusted_key);
}
