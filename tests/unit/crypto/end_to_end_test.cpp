// The whole path a messenger takes: identities and device lists, bundles, sessions per device
// (fan-out to every device of the peer and of oneself), sealed envelopes, revocation.
#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/crypto.hpp"

using namespace veil::crypto;
using veil::crypto::test::bytes_of;

namespace {
constexpr std::uint64_t now = 1'700'000'000'000;
constexpr std::uint64_t day = 24 * 3600 * 1000ULL;

struct Device {
    explicit Device(const Identity& id) : cert(DeviceCertificate::issue(id, keys, now)) {
        store.rotate_signed_prekey(keys, id.signing_key(), now, 30 * day);
        store.generate_one_time_prekeys(keys, id.signing_key(), 5);
    }
    DeviceKeys keys = DeviceKeys::generate();
    PreKeyStore store;
    DeviceCertificate cert;
    SessionManager sessions{keys, cert.identity_key, store};
};

// Alice's device sends text to one device: encrypt in its session, seal to its mailbox.
SealedEnvelope send(Device& from, const VeilId& to_id, const Device& to, std::string_view text) {
    auto message = from.sessions.encrypt(to_id, to.keys.signing_key(), bytes_of(text));
    return seal(from.cert, message, to.keys.dh_key(), to.keys.dh_key(), 0, day);
}

// The receiving device: open, check the sender against the identity's device list, decrypt.
std::string receive(Device& at, const SealedEnvelope& env, const DeviceList& sender_list) {
    auto opened = open(SealedEnvelope::decode(env.encode()), at.keys.dh_pair());
    auto sender_id = opened.sender.claimed_id();
    opened.sender.verify(sender_id, sender_list);
    auto plain = at.sessions.decrypt(sender_id, opened.sender, opened.message, now);
    return {plain.begin(), plain.end()};
}
}  // namespace

TEST_CASE("crypto - end to end: fan-out to every device of both sides, then revocation", "[crypto]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    Device alice_phone(alice), alice_laptop(alice), bob_phone(bob), bob_tablet(bob);
    auto alice_list = DeviceList{}.with_device(alice, alice_phone.keys, now).with_device(alice, alice_laptop.keys, now);
    auto bob_list = DeviceList{}.with_device(bob, bob_phone.keys, now).with_device(bob, bob_tablet.keys, now);

    // Alice's phone starts sessions with every other device, each bundle checked against the list.
    for (Device* d : {&bob_phone, &bob_tablet}) {
        auto bundle = PreKeyBundle::decode(d->store.bundle(d->cert, 1).encode());
        bundle.verify(bob.veil_id(), bob_list, now);
        alice_phone.sessions.start_session(bob.veil_id(), bundle, now);
    }
    alice_phone.sessions.start_session(alice.veil_id(), alice_laptop.store.bundle(alice_laptop.cert, 1), now);

    CHECK(receive(bob_phone, send(alice_phone, bob.veil_id(), bob_phone, "hi bob"), alice_list) == "hi bob");
    CHECK(receive(bob_tablet, send(alice_phone, bob.veil_id(), bob_tablet, "hi bob"), alice_list) == "hi bob");
    CHECK(receive(alice_laptop, send(alice_phone, alice.veil_id(), alice_laptop, "hi bob"), alice_list) == "hi bob");

    // Bob's tablet answers on the session Alice's phone made.
    CHECK(receive(alice_phone, send(bob_tablet, alice.veil_id(), alice_phone, "hello"), bob_list) == "hello");

    // Bob revokes the tablet: its bundle and its messages are refused from then on.
    bob_list = DeviceList::accept_update(bob_list, bob_list.with_revoked(bob, bob_tablet.keys.signing_key(), now + 1),
                                         bob.veil_id(), now + 1);
    auto env = send(bob_tablet, alice.veil_id(), alice_phone, "still here?");
    try {
        receive(alice_phone, env, bob_list);
        FAIL("a revoked device was accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::revoked);
    }
    try {
        bob_tablet.store.bundle(bob_tablet.cert, 1).verify(bob.veil_id(), bob_list, now);
        FAIL("a revoked device's bundle was accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::revoked);
    }
    alice_phone.sessions.forget_device(bob.veil_id(), bob_tablet.keys.signing_key());
    CHECK_FALSE(alice_phone.sessions.has_session(bob.veil_id(), bob_tablet.keys.signing_key()));
}
