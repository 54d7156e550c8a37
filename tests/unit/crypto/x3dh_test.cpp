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
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 5);
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
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 2);
    auto bundle = bob.store.bundle(bob.cert, 10);
    auto init = x3dh_initiate(alice.device, alice.identity.signing_key(), bundle, bob.identity.veil_id(), now);
    REQUIRE(init.header.one_time_prekey_id.has_value());
    auto header = X3dhHeader::decode(init.header.encode());
    CHECK(header == init.header);
    auto resp = x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, header, alice.cert);
    CHECK(resp.shared_key.equals(init.shared_key.view()));
    CHECK(resp.associated_data == init.associated_data);
    // ID_A || IK_A || ID_B || IK_B: both identities and both devices.
    Bytes expected_ad;
    for (const auto& k : {alice.identity.signing_key(), alice.device.dh_key(), bob.identity.signing_key(), bob.device.dh_key()}) {
        expected_ad.insert(expected_ad.end(), k.begin(), k.end());
    }
    CHECK(init.associated_data == expected_ad);

    // Once used, the key leaves the bundle at once; a second sender who picked it from a stale
    // bundle still gets through during the grace period, and after it the secret is gone.
    auto unused = bob.store.one_time_count();
    bob.store.consume_one_time_prekey(*header.one_time_prekey_id, now);
    CHECK(bob.store.one_time_count() == unused - 1);
    for (const auto& k : bob.store.bundle(bob.cert, 100).one_time_prekeys) CHECK(k.id != *header.one_time_prekey_id);
    auto again = x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, header, alice.cert);
    CHECK(again.shared_key.equals(init.shared_key.view()));
    auto restored = PreKeyStore::deserialize(bob.store.serialize().view());
    CHECK(restored.one_time_count() == unused - 1);
    bob.store.expire(now + PreKeyStore::used_one_time_grace_ms);
    CHECK(kind_of([&] { x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, header, alice.cert); }) == ErrorKind::no_prekey);
}

TEST_CASE("crypto - X3DH falls back to three DHs when one-time keys ran out", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    auto bundle = bob.store.bundle(bob.cert, 10);
    REQUIRE(bundle.one_time_prekeys.empty());
    auto init = x3dh_initiate(alice.device, alice.identity.signing_key(), bundle, bob.identity.veil_id(), now);
    CHECK_FALSE(init.header.one_time_prekey_id.has_value());
    auto resp = x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, init.header, alice.cert);
    CHECK(resp.shared_key.equals(init.shared_key.view()));
}

TEST_CASE("crypto - rotated signed pre-keys still answer during the grace period", "[crypto]") {
    Party alice, bob;
    auto old_spk = bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    auto bundle = bob.store.bundle(bob.cert, 0);
    auto init = x3dh_initiate(alice.device, alice.identity.signing_key(), bundle, bob.identity.veil_id(), now);
    auto new_spk = bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now + 29 * day, 30 * day);
    CHECK(new_spk.id != old_spk.id);
    CHECK(bob.store.bundle(bob.cert, 0).signed_prekey.id == new_spk.id);
    CHECK(x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, init.header, alice.cert).shared_key.equals(init.shared_key.view()));
    bob.store.expire(now + 30 * day + PreKeyStore::signed_prekey_grace_ms);
    CHECK(kind_of([&] { x3dh_respond(bob.device, bob.identity.signing_key(), bob.store, init.header, alice.cert); }) == ErrorKind::no_prekey);
}

TEST_CASE("crypto - the pre-key store survives storage", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 4);
    auto bundle = bob.store.bundle(bob.cert, 10);
    auto init = x3dh_initiate(alice.device, alice.identity.signing_key(), bundle, bob.identity.veil_id(), now);
    auto restored = PreKeyStore::deserialize(bob.store.serialize().view());
    CHECK(restored.one_time_count() == 4);
    CHECK(x3dh_respond(bob.device, bob.identity.signing_key(), restored, init.header, alice.cert).shared_key.equals(init.shared_key.view()));
    // New ids keep counting after a restore.
    auto more = restored.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 1);
    CHECK(more.front().id == 5);
    CHECK(kind_of([&] { PreKeyStore::deserialize(veil::wire::Bytes{1, 2, 3}); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - X3DH refuses a bundle signed for another identity", "[crypto]") {
    Party alice, bob, mallory;
    mallory.store.rotate_signed_prekey(mallory.device, mallory.identity.signing_key(), now, 30 * day);
    auto bundle = mallory.store.bundle(mallory.cert, 1);
    CHECK(kind_of([&] { x3dh_initiate(alice.device, alice.identity.signing_key(), bundle, bob.identity.veil_id(), now); }) == ErrorKind::untrusted_key);
}

// Unknown key-share (issue 14): Mallory certifies Bob's device keys under her own identity and
// republishes Bob's pre-keys as hers. Bob's pre-key signatures cover his identity, so the bundle
// does not verify as Mallory's and Alice never runs X3DH with Bob's device believing it Mallory's.
TEST_CASE("crypto - a bundle of another identity's device, re-certified by Mallory, is refused", "[crypto]") {
    Party alice, bob, mallory;
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    bob.store.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 3);
    auto stolen = bob.store.bundle(bob.cert, 3);
    stolen.certificate = DeviceCertificate::issue(mallory.identity, bob.device.signing_key(), bob.device.dh_key(), now);
    REQUIRE_NOTHROW(stolen.certificate.verify(mallory.identity.veil_id()));  // certifying keys is allowed
    CHECK(kind_of([&] { stolen.verify(mallory.identity.veil_id(), now); }) == ErrorKind::bad_signature);
    CHECK(kind_of([&] { x3dh_initiate(alice.device, alice.identity.signing_key(), stolen, mallory.identity.veil_id(), now); }) ==
          ErrorKind::bad_signature);
    stolen.one_time_prekeys.clear();
    CHECK(kind_of([&] { stolen.verify(mallory.identity.veil_id(), now); }) == ErrorKind::bad_signature);
    // Each one-time key is bound alone too: even beside a signed pre-key that verifies for
    // Mallory (made here with Bob's device key, which she does not have), Bob's is refused.
    auto only_otpk = bob.store.bundle(bob.cert, 1);
    only_otpk.certificate = stolen.certificate;
    only_otpk.signed_prekey = mallory.store.rotate_signed_prekey(bob.device, mallory.identity.signing_key(), now, day);
    CHECK(kind_of([&] { only_otpk.verify(mallory.identity.veil_id(), now); }) == ErrorKind::bad_signature);
}

TEST_CASE("crypto - structures from before identity binding are refused with that reason", "[crypto]") {
    Party alice, bob;
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    auto bundle = bob.store.bundle(bob.cert, 0).encode();
    auto header = x3dh_initiate(alice.device, alice.identity.signing_key(), bob.store.bundle(bob.cert, 0),
                                bob.identity.veil_id(), now).header.encode();
    auto store = bob.store.serialize();
    Bytes old_store(store.view().begin(), store.view().end());
    auto reason = [](auto&& decode, Bytes bytes) {
        bytes[0] = bytes[0] - 1;  // the previous version
        try {
            decode(bytes);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    using Catch::Matchers::Contains;
    CHECK_THAT(reason([](const Bytes& b) { (void)PreKeyBundle::decode(b); }, bundle), Contains("predates identity binding"));
    CHECK_THAT(reason([](const Bytes& b) { (void)X3dhHeader::decode(b); }, header), Contains("predates identity binding"));
    CHECK_THAT(reason([](const Bytes& b) { (void)PreKeyStore::deserialize(b); }, old_store), Contains("predates identity binding"));
}

// A used one-time key answers for a week; a flood of sessions must not make the store grow
// without bound nor, stored, fail to load (it once refused more than 100,000 keys).
TEST_CASE("crypto - 200,000 used one-time keys still load, the newest kept", "[crypto]") {
    Party bob;
    bob.store.rotate_signed_prekey(bob.device, bob.identity.signing_key(), now, 30 * day);
    auto unused = bob.store.generate_one_time_prekeys(bob.device, bob.identity.signing_key(), 3);
    auto real = bob.store.serialize();
    // The stored form (docs/protocol.md §4): the real header and signed pre-key, then 3 unused
    // keys and 200,000 used ones written the same way (secrets are any 32 bytes).
    constexpr std::uint32_t used = 200'000;
    const std::size_t one_time_at = 1 + 4 + 4 + 4 + (4 + 32 + 8 + 64 + 32);
    veil::wire::Writer w;
    w.raw(real.view().subspan(0, one_time_at));
    auto next_id = unused.back().id + 1;
    w.u32(3 + used);
    w.raw(real.view().subspan(one_time_at + 4));
    for (std::uint32_t i = 0; i < used; ++i) {
        w.u32(next_id + i).raw(Bytes(32, 9)).raw(Bytes(64, 0)).raw(Bytes(32, 5)).u64(now + i);
    }
    auto bytes = w.take();
    auto loaded = PreKeyStore::deserialize(bytes);
    CHECK(loaded.one_time_count() == 3);
    CHECK(loaded.used_one_time_count() == PreKeyStore::max_used_one_time_keys);
    CHECK_NOTHROW(loaded.one_time_prekey(next_id + used - 1));  // the newest used answer
    CHECK(kind_of([&] { (void)loaded.one_time_prekey(next_id); }) == ErrorKind::no_prekey);  // the oldest went
    for (const auto& k : unused) CHECK_NOTHROW(loaded.one_time_prekey(k.id));

    // In memory too: using more than the cap evicts the oldest used first.
    Party carol;
    auto keys = carol.store.generate_one_time_prekeys(carol.device, carol.identity.signing_key(),
                                                      PreKeyStore::max_used_one_time_keys + 5);
    for (std::size_t i = 0; i < keys.size(); ++i) carol.store.consume_one_time_prekey(keys[i].id, now + i);
    CHECK(carol.store.used_one_time_count() == PreKeyStore::max_used_one_time_keys);
    CHECK(kind_of([&] { (void)carol.store.one_time_prekey(keys[4].id); }) == ErrorKind::no_prekey);
    CHECK_NOTHROW(carol.store.one_time_prekey(keys[5].id));
}
