#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/session_manager.hpp"

using namespace veil::crypto;
using veil::crypto::test::bytes_of;

namespace {
constexpr std::uint64_t now = 1'700'000'000'000;
constexpr std::uint64_t day = 24 * 3600 * 1000ULL;

struct Device {
    explicit Device(const Identity& id) : cert(DeviceCertificate::issue(id, keys, now)) {
        store.rotate_signed_prekey(keys, id.signing_key(), now, 30 * day);
        store.generate_one_time_prekeys(keys, id.signing_key(), 10);
    }
    DeviceKeys keys = DeviceKeys::generate();
    PreKeyStore store;
    DeviceCertificate cert;
    SessionManager sessions{keys, cert.identity_key, store};
    [[nodiscard]] PreKeyBundle bundle() const { return store.bundle(cert, 1); }
};

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }
}  // namespace

TEST_CASE("crypto - sessions: first message is a pre-key message, then plain ratchet", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    Device alice(alice_id), bob(bob_id);
    const auto& bob_dev = bob.keys.signing_key();
    const auto& alice_dev = alice.keys.signing_key();

    CHECK_THROWS_AS(alice.sessions.encrypt(bob_id.veil_id(), bob_dev, bytes_of("x")), Error);
    alice.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
    auto m1 = alice.sessions.encrypt(bob_id.veil_id(), bob_dev, bytes_of("hello bob"));
    auto m2 = alice.sessions.encrypt(bob_id.veil_id(), bob_dev, bytes_of("again"));
    CHECK(CipherMessage::decode(m1).x3dh.has_value());
    CHECK(CipherMessage::decode(m2).x3dh.has_value());  // resent until Bob answers

    CHECK(bob.store.one_time_count() == 10);
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, m2, now)) == "again");
    CHECK(bob.store.one_time_count() == 9);  // consumed after the first decrypt
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, m1, now)) == "hello bob");
    CHECK(bob.sessions.session_count(alice_id.veil_id(), alice_dev) == 1);
    // A replayed pre-key message neither decrypts again nor starts a second session.
    CHECK_THROWS_AS(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, m1, now), Error);
    CHECK(bob.sessions.session_count(alice_id.veil_id(), alice_dev) == 1);

    auto reply = bob.sessions.encrypt(alice_id.veil_id(), alice_dev, bytes_of("hi alice"));
    CHECK_FALSE(CipherMessage::decode(reply).x3dh.has_value());
    CHECK(text(alice.sessions.decrypt(bob_id.veil_id(), bob.cert, reply, now)) == "hi alice");
    auto m3 = alice.sessions.encrypt(bob_id.veil_id(), bob_dev, bytes_of("third"));
    CHECK_FALSE(CipherMessage::decode(m3).x3dh.has_value());
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, m3, now)) == "third");
}

TEST_CASE("crypto - sessions: the sender's certificate must belong to the claimed identity", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    auto mallory_id = Identity::generate();
    Device alice(alice_id), bob(bob_id), mallory(mallory_id);
    alice.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
    auto m = alice.sessions.encrypt(bob_id.veil_id(), bob.keys.signing_key(), bytes_of("hi"));
    auto before = bob.sessions.serialize();
    try {
        bob.sessions.decrypt(alice_id.veil_id(), mallory.cert, m, now);
        FAIL("accepted a certificate of another identity");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::untrusted_key);
    }
    // Mallory's own certificate is valid for Mallory, but the X3DH key inside is Alice's.
    try {
        bob.sessions.decrypt(mallory_id.veil_id(), mallory.cert, m, now);
        FAIL("accepted X3DH from a key that is not the certificate's");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::untrusted_key);
    }
    CHECK(bob.store.one_time_count() == 10);
    // A forged pre-key message from a real device fails and leaves nothing behind.
    auto forged = CipherMessage::decode(m);
    forged.message.ciphertext[0] ^= 1;
    CHECK_THROWS_AS(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, forged.encode(), now), Error);
    CHECK(bob.sessions.serialize().equals(before.view()));
    CHECK(bob.store.one_time_count() == 10);
}

// Mallory runs X3DH with her own device keys but names Bob's identity (only his public key is
// needed for the AD), with a certificate she could not have Bob sign: everything but the
// certificate's signature is consistent, so only the certificate check refuses it.
TEST_CASE("crypto - sessions: a first message under a certificate the claimed identity did not sign is refused", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    auto mallory_id = Identity::generate();
    Device alice(alice_id);
    auto mallory_keys = DeviceKeys::generate();
    auto forged = DeviceCertificate::issue(mallory_id, mallory_keys, now);
    forged.identity_key = bob_id.signing_key();  // claims Bob; the signature stays Mallory's
    REQUIRE(forged.claimed_id() == bob_id.veil_id());
    PreKeyStore mallory_store;
    SessionManager mallory(mallory_keys, bob_id.signing_key(), mallory_store);
    mallory.start_session(alice_id.veil_id(), alice.bundle(), now);
    auto m = mallory.encrypt(alice_id.veil_id(), alice.keys.signing_key(), bytes_of("it is me, Bob"));
    try {
        (void)alice.sessions.decrypt(bob_id.veil_id(), forged, m, now);
        FAIL("a message under a forged certificate was taken as Bob's");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::bad_signature);
    }
    CHECK(alice.sessions.session_count() == 0);
    CHECK(alice.store.one_time_count() == 10);
}

TEST_CASE("crypto - sessions: simultaneous initiation converges on one session", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    Device alice(alice_id), bob(bob_id);
    const auto& A = alice.keys.signing_key();
    const auto& B = bob.keys.signing_key();
    alice.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
    bob.sessions.start_session(alice_id.veil_id(), alice.bundle(), now);
    auto from_alice = alice.sessions.encrypt(bob_id.veil_id(), B, bytes_of("a1"));
    auto from_bob = bob.sessions.encrypt(alice_id.veil_id(), A, bytes_of("b1"));
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, from_alice, now)) == "a1");
    CHECK(text(alice.sessions.decrypt(bob_id.veil_id(), bob.cert, from_bob, now)) == "b1");
    CHECK(alice.sessions.session_count(bob_id.veil_id(), B) == 2);
    CHECK(bob.sessions.session_count(alice_id.veil_id(), A) == 2);
    // Each side now sends on a different session...
    CHECK(alice.sessions.active_session_id(bob_id.veil_id(), B) != bob.sessions.active_session_id(alice_id.veil_id(), A));
    // ...until a message arrives on the inactive one, which becomes active.
    auto a2 = alice.sessions.encrypt(bob_id.veil_id(), B, bytes_of("a2"));
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, a2, now)) == "a2");
    CHECK(alice.sessions.active_session_id(bob_id.veil_id(), B) == bob.sessions.active_session_id(alice_id.veil_id(), A));
    for (int i = 0; i < 3; ++i) {
        auto b = bob.sessions.encrypt(alice_id.veil_id(), A, bytes_of("b"));
        CHECK(text(alice.sessions.decrypt(bob_id.veil_id(), bob.cert, b, now)) == "b");
        auto a = alice.sessions.encrypt(bob_id.veil_id(), B, bytes_of("a"));
        CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, a, now)) == "a");
    }
    CHECK(alice.sessions.active_session_id(bob_id.veil_id(), B) == bob.sessions.active_session_id(alice_id.veil_id(), A));
}

TEST_CASE("crypto - sessions: per device, and they survive storage", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    Device alice(alice_id), bob_phone(bob_id), bob_laptop(bob_id);
    alice.sessions.start_session(bob_id.veil_id(), bob_phone.bundle(), now);
    alice.sessions.start_session(bob_id.veil_id(), bob_laptop.bundle(), now);
    auto to_phone = alice.sessions.encrypt(bob_id.veil_id(), bob_phone.keys.signing_key(), bytes_of("phone"));
    auto to_laptop = alice.sessions.encrypt(bob_id.veil_id(), bob_laptop.keys.signing_key(), bytes_of("laptop"));
    CHECK_THROWS_AS(bob_phone.sessions.decrypt(alice_id.veil_id(), alice.cert, to_laptop, now), Error);
    CHECK(text(bob_phone.sessions.decrypt(alice_id.veil_id(), alice.cert, to_phone, now)) == "phone");
    CHECK(text(bob_laptop.sessions.decrypt(alice_id.veil_id(), alice.cert, to_laptop, now)) == "laptop");

    auto saved = alice.sessions.serialize();
    SessionManager restored(alice.keys, alice.cert.identity_key, alice.store);
    restored.load(saved.view());
    CHECK(restored.has_session(bob_id.veil_id(), bob_phone.keys.signing_key()));
    auto again = restored.encrypt(bob_id.veil_id(), bob_phone.keys.signing_key(), bytes_of("after restore"));
    CHECK(text(bob_phone.sessions.decrypt(alice_id.veil_id(), alice.cert, again, now)) == "after restore");
    restored.forget_device(bob_id.veil_id(), bob_phone.keys.signing_key());
    CHECK_FALSE(restored.has_session(bob_id.veil_id(), bob_phone.keys.signing_key()));
    CHECK_THROWS_AS(restored.load(veil::wire::Bytes{1, 0, 0}), Error);
}

// X3DH's AD holds both identities: a device that answers for another identity than the one the
// initiator bound (the other half of an unknown key-share) cannot open the first message.
TEST_CASE("crypto - sessions: the first message opens only for the identity the sender bound", "[crypto]") {
    auto alice_id = Identity::generate();
    auto bob_id = Identity::generate();
    auto mallory_id = Identity::generate();
    Device alice(alice_id), bob(bob_id);
    alice.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
    auto first = alice.sessions.encrypt(bob_id.veil_id(), bob.keys.signing_key(), bytes_of("for Bob"));
    // Bob's own device keys and pre-keys, but answering as Mallory's device.
    SessionManager as_mallory(bob.keys, mallory_id.signing_key(), bob.store);
    CHECK_THROWS_AS(as_mallory.decrypt(alice_id.veil_id(), alice.cert, first, now), Error);
    CHECK(as_mallory.session_count() == 0);
    CHECK(bob.store.one_time_count() == 10);  // nothing consumed
    CHECK(text(bob.sessions.decrypt(alice_id.veil_id(), alice.cert, first, now)) == "for Bob");
}

// An identity may certify any number of device keys; each would cost us sessions.
TEST_CASE("crypto - sessions: at most 16 devices of one identity, the rest refused with a reason", "[crypto]") {
    auto bob_id = Identity::generate();
    auto mallory_id = Identity::generate();
    Device bob(bob_id);
    bob.store.generate_one_time_prekeys(bob.keys, bob_id.signing_key(), 100);
    std::size_t refused = 0;
    for (int i = 0; i < 100; ++i) {
        Device m(mallory_id);
        m.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
        auto msg = m.sessions.encrypt(bob_id.veil_id(), bob.keys.signing_key(), bytes_of("hello"));
        try {
            (void)bob.sessions.decrypt(mallory_id.veil_id(), m.cert, msg, now);
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::too_large);
            CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("16 devices (the cap)"));
            ++refused;
        }
    }
    CHECK(refused == 100 - SessionManager::max_devices_per_peer);
    CHECK(bob.sessions.device_count(mallory_id.veil_id()) == SessionManager::max_devices_per_peer);
    CHECK(bob.sessions.session_count() == SessionManager::max_devices_per_peer);
    // Starting sessions ourselves is capped the same way; another identity is not affected.
    Device alice(Identity::generate());
    for (int i = 0; i < 17; ++i) {
        Device d(bob_id);
        if (i < 16) alice.sessions.start_session(bob_id.veil_id(), d.bundle(), now);
        else CHECK_THROWS_AS(alice.sessions.start_session(bob_id.veil_id(), d.bundle(), now), Error);
    }
    CHECK(alice.sessions.device_count(bob_id.veil_id()) == 16);
}

// A device that keeps starting sessions (each pre-key message with a fresh base key) costs at
// most 1 + max_inactive of them: the oldest is evicted, the newest is active.
TEST_CASE("crypto - sessions: at most 5 per device, the oldest evicted", "[crypto]") {
    auto bob_id = Identity::generate();
    auto mallory_id = Identity::generate();
    Device bob(bob_id), mallory(mallory_id);
    const auto& dev = mallory.keys.signing_key();
    std::vector<Bytes> firsts;
    for (int i = 0; i < 10; ++i) {
        mallory.sessions.start_session(bob_id.veil_id(), bob.bundle(), now);
        firsts.push_back(mallory.sessions.encrypt(bob_id.veil_id(), bob.keys.signing_key(), bytes_of("x")));
        CHECK(text(bob.sessions.decrypt(mallory_id.veil_id(), mallory.cert, firsts.back(), now)) == "x");
    }
    CHECK(bob.sessions.session_count(mallory_id.veil_id(), dev) == 1 + SessionManager::max_inactive);
    CHECK(bob.sessions.active_session_id(mallory_id.veil_id(), dev) ==
          mallory.sessions.active_session_id(bob_id.veil_id(), bob.keys.signing_key()));
    CHECK(mallory.sessions.session_count(bob_id.veil_id(), bob.keys.signing_key()) == 1 + SessionManager::max_inactive);
}
