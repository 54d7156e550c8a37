#include <catch2/catch.hpp>

#include "ratchet_helpers.hpp"
#include "test_util.hpp"
#include "veil/crypto/error.hpp"

using namespace veil::crypto;
using namespace veil::crypto::test;

namespace {
constexpr std::uint64_t now = 1'700'000'000'000;

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}
}  // namespace

TEST_CASE("crypto - ratchet: ping-pong with a DH step each turn", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    CHECK_FALSE(bob.can_send());
    CHECK(kind_of([&] { bob.encrypt(bytes_of("x")); }) == ErrorKind::no_session);
    for (int round = 0; round < 5; ++round) {
        auto m = alice.encrypt(bytes_of("from alice " + std::to_string(round)));
        CHECK(text_of(bob.decrypt(RatchetMessage::decode(m.encode()), now)) == "from alice " + std::to_string(round));
        auto r = bob.encrypt(bytes_of("from bob"));
        CHECK(text_of(alice.decrypt(r, now)) == "from bob");
        CHECK(r.header.dh != m.header.dh);
    }
    CHECK(alice.skipped_key_count() == 0);
    CHECK(bob.skipped_key_count() == 0);
}

TEST_CASE("crypto - ratchet: out of order across chains, each once", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    auto a0 = alice.encrypt(bytes_of("a0"));
    auto a1 = alice.encrypt(bytes_of("a1"));
    auto a2 = alice.encrypt(bytes_of("a2"));
    CHECK(text_of(bob.decrypt(a2, now)) == "a2");
    CHECK(bob.skipped_key_count() == 2);
    auto b0 = bob.encrypt(bytes_of("b0"));
    CHECK(text_of(alice.decrypt(b0, now)) == "b0");
    auto a3 = alice.encrypt(bytes_of("a3"));  // new chain: pn = 3
    CHECK(a3.header.pn == 3);
    CHECK(text_of(bob.decrypt(a3, now)) == "a3");
    CHECK(text_of(bob.decrypt(a0, now)) == "a0");
    CHECK(text_of(bob.decrypt(a1, now)) == "a1");
    CHECK(bob.skipped_key_count() == 0);
    CHECK(kind_of([&] { bob.decrypt(a1, now); }) == ErrorKind::decrypt_failed);
    CHECK(kind_of([&] { bob.decrypt(a3, now); }) == ErrorKind::duplicate_message);
}

TEST_CASE("crypto - ratchet: a failed decryption leaves the state byte for byte unchanged", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    CHECK(text_of(bob.decrypt(alice.encrypt(bytes_of("hi")), now)) == "hi");
    auto skipped = alice.encrypt(bytes_of("skipped"));
    auto m = alice.encrypt(bytes_of("payload"));
    auto before = bob.serialize();

    auto flipped = m;
    flipped.ciphertext[3] ^= 0x10;
    CHECK(kind_of([&] { bob.decrypt(flipped, now); }) == ErrorKind::decrypt_failed);
    CHECK(same_state(bob, before));
    // The header is authenticated: changing pn or n fails too.
    auto moved = m;
    moved.header.pn += 1;
    CHECK(kind_of([&] { bob.decrypt(moved, now); }) == ErrorKind::decrypt_failed);
    CHECK(same_state(bob, before));
    // A forged new ratchet key makes a trial DH step that is thrown away.
    auto forged = m;
    forged.header.dh = DhKeyPair::generate().pub;
    CHECK(kind_of([&] { bob.decrypt(forged, now); }) == ErrorKind::decrypt_failed);
    CHECK(same_state(bob, before));
    // A low-order ratchet key is refused without a state change.
    forged.header.dh = PublicKey{};
    CHECK(kind_of([&] { bob.decrypt(forged, now); }) == ErrorKind::weak_key);
    CHECK(same_state(bob, before));
    // A tampered message whose key is in the skipped store also changes nothing.
    auto m2 = alice.encrypt(bytes_of("third"));
    CHECK(text_of(bob.decrypt(m2, now)) == "third");
    auto before2 = bob.serialize();
    auto bad_skipped = skipped;
    bad_skipped.ciphertext.back() ^= 1;
    CHECK(kind_of([&] { bob.decrypt(bad_skipped, now); }) == ErrorKind::decrypt_failed);
    CHECK(same_state(bob, before2));
    CHECK(text_of(bob.decrypt(skipped, now)) == "skipped");
    CHECK(text_of(bob.decrypt(m, now)) == "payload");
}

TEST_CASE("crypto - ratchet: MAX_SKIP holds", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    std::vector<RatchetMessage> sent;
    for (std::uint32_t i = 0; i <= RatchetSession::max_skip + 1; ++i) sent.push_back(alice.encrypt(bytes_of("m")));
    auto before = bob.serialize();
    // n = 1001 would skip 1001 keys.
    CHECK(kind_of([&] { bob.decrypt(sent[RatchetSession::max_skip + 1], now); }) == ErrorKind::too_many_skipped);
    CHECK(same_state(bob, before));
    // n = 1000 skips exactly MAX_SKIP.
    CHECK(text_of(bob.decrypt(sent[RatchetSession::max_skip], now)) == "m");
    CHECK(bob.skipped_key_count() == RatchetSession::max_skip);
    CHECK(text_of(bob.decrypt(sent[RatchetSession::max_skip + 1], now)) == "m");
}

TEST_CASE("crypto - ratchet: skipped keys expire and the store is bounded", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    auto m0 = alice.encrypt(bytes_of("old"));
    auto m1 = alice.encrypt(bytes_of("new"));
    CHECK(text_of(bob.decrypt(m1, now)) == "new");
    CHECK(bob.skipped_key_count() == 1);
    auto later = now + RatchetSession::skipped_key_ttl_ms;
    auto m2 = alice.encrypt(bytes_of("later"));
    CHECK(text_of(bob.decrypt(m2, later)) == "later");
    CHECK(bob.skipped_key_count() == 0);
    CHECK(kind_of([&] { bob.decrypt(m0, later); }) == ErrorKind::duplicate_message);

    // Three chains of 900 skipped keys each: the store keeps the newest max_skipped_keys.
    auto [a, b] = make_ratchet_pair();
    std::vector<RatchetMessage> firsts;
    for (int chain = 0; chain < 3; ++chain) {
        firsts.push_back(a.encrypt(bytes_of("first")));
        RatchetMessage last;
        for (int i = 0; i < 900; ++i) last = a.encrypt(bytes_of("x"));
        b.decrypt(last, now);
        a.decrypt(b.encrypt(bytes_of("ack")), now);
    }
    CHECK(b.skipped_key_count() == RatchetSession::max_skipped_keys);
    CHECK(kind_of([&] { b.decrypt(firsts[0], now); }) != ErrorKind{});  // evicted (oldest)
    CHECK(text_of(b.decrypt(firsts[2], now)) == "first");
}

TEST_CASE("crypto - ratchet: state serializes and restores exactly", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    auto skipped = alice.encrypt(bytes_of("s"));
    CHECK(text_of(bob.decrypt(alice.encrypt(bytes_of("a")), now)) == "a");
    auto stored = bob.serialize();
    auto restored = RatchetSession::deserialize(stored.view());
    CHECK(restored.serialize().equals(stored.view()));
    CHECK(restored.skipped_key_count() == 1);
    CHECK(text_of(restored.decrypt(skipped, now)) == "s");
    CHECK(text_of(alice.decrypt(restored.encrypt(bytes_of("r")), now)) == "r");

    auto bytes = veil::wire::Bytes(stored.view().begin(), stored.view().end());
    bytes.pop_back();
    CHECK(kind_of([&] { RatchetSession::deserialize(bytes); }) == ErrorKind::malformed);
}

TEST_CASE("crypto - ratchet: message encoding is length-checked", "[crypto]") {
    auto [alice, bob] = make_ratchet_pair();
    auto bytes = alice.encrypt(bytes_of("hello")).encode();
    CHECK(bytes.size() == RatchetHeader::encoded_bytes + 4 + 5 + 16);
    auto cut = bytes;
    cut.resize(cut.size() - 1);
    CHECK(kind_of([&] { RatchetMessage::decode(cut); }) == ErrorKind::malformed);
    auto versioned = bytes;
    versioned[0] = 2;
    CHECK(kind_of([&] { RatchetMessage::decode(versioned); }) == ErrorKind::malformed);
}
