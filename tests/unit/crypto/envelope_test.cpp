#include <algorithm>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "veil/crypto/envelope.hpp"
#include "veil/crypto/error.hpp"

using namespace veil::crypto;

namespace {
constexpr std::uint64_t hour = 3600 * 1000ULL;

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

TEST_CASE("crypto - a sealed envelope shows only mailbox, namespace, TTL and a bucket-sized blob", "[crypto]") {
    auto alice = Identity::generate();
    auto alice_dev = DeviceKeys::generate();
    auto cert = DeviceCertificate::issue(alice, alice_dev, 1);
    auto bob_dev = DeviceKeys::generate();
    veil::wire::Bytes message(700, 0x42);
    auto env = seal(cert, message, bob_dev.dh_key(), bob_dev.dh_key(), 7, 24 * hour);
    CHECK(env.ciphertext.size() == 1024);
    auto wire_bytes = env.encode();
    CHECK(wire_bytes.size() == 1 + 32 + 2 + 8 + 4 + 1024);
    // Nothing identifying the sender appears in what the node stores.
    auto contains = [&](const PublicKey& k) {
        return std::search(wire_bytes.begin(), wire_bytes.end(), k.begin(), k.end()) != wire_bytes.end();
    };
    CHECK_FALSE(contains(alice.signing_key()));
    CHECK_FALSE(contains(alice.veil_id().x25519));
    CHECK_FALSE(contains(alice_dev.signing_key()));
    CHECK_FALSE(contains(alice_dev.dh_key()));

    auto decoded = SealedEnvelope::decode(wire_bytes);
    CHECK(decoded.namespace_id == 7);
    CHECK(decoded.ttl_ms == 24 * hour);
    auto opened = open(decoded, bob_dev.dh_pair());
    CHECK(opened.sender == cert);
    CHECK_NOTHROW(opened.sender.verify(alice.veil_id()));
    CHECK(opened.message == message);
}

TEST_CASE("crypto - envelope sizes fall into buckets", "[crypto]") {
    auto id = Identity::generate();
    auto dev = DeviceKeys::generate();
    auto cert = DeviceCertificate::issue(id, dev, 1);
    auto bob = DeviceKeys::generate();
    std::size_t last = 0;
    for (std::size_t n : {0, 100, 300, 400, 900, 5000, 60000, 1000000}) {
        auto env = seal(cert, veil::wire::Bytes(n, 1), bob.dh_key(), bob.dh_key(), 0, hour);
        CHECK(std::find(envelope_buckets.begin(), envelope_buckets.end(), env.ciphertext.size()) != envelope_buckets.end());
        CHECK(env.ciphertext.size() >= last);
        last = env.ciphertext.size();
        CHECK(open(env, bob.dh_pair()).message.size() == n);
    }
    CHECK(kind_of([&] { seal(cert, veil::wire::Bytes(1 << 20, 1), bob.dh_key(), bob.dh_key(), 0, hour); }) == ErrorKind::too_large);
    CHECK(kind_of([&] { seal(cert, veil::wire::Bytes(1, 1), bob.dh_key(), bob.dh_key(), 0, 15 * 24 * hour); }) == ErrorKind::invalid_argument);
}

TEST_CASE("crypto - envelopes open only for their recipient and resist tampering", "[crypto]") {
    auto id = Identity::generate();
    auto dev = DeviceKeys::generate();
    auto cert = DeviceCertificate::issue(id, dev, 1);
    auto bob = DeviceKeys::generate();
    auto carol = DeviceKeys::generate();
    auto env = seal(cert, veil::crypto::test::bytes_of("hi"), bob.dh_key(), bob.dh_key(), 3, hour);
    CHECK(kind_of([&] { open(env, carol.dh_pair()); }) == ErrorKind::decrypt_failed);
    auto flipped = env;
    flipped.ciphertext[100] ^= 4;
    CHECK(kind_of([&] { open(flipped, bob.dh_pair()); }) == ErrorKind::decrypt_failed);
    // The routing fields are bound to the content.
    auto moved = env;
    moved.ttl_ms += 1;
    CHECK(kind_of([&] { open(moved, bob.dh_pair()); }) == ErrorKind::decrypt_failed);
    moved = env;
    moved.namespace_id = 4;
    CHECK(kind_of([&] { open(moved, bob.dh_pair()); }) == ErrorKind::decrypt_failed);

    auto bytes = env.encode();
    bytes.resize(bytes.size() - 1);
    CHECK(kind_of([&] { SealedEnvelope::decode(bytes); }) == ErrorKind::malformed);
    auto odd = env;
    odd.ciphertext.resize(1000);  // not a bucket
    CHECK(kind_of([&] { SealedEnvelope::decode(odd.encode()); }) == ErrorKind::malformed);
}
